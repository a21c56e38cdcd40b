import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import {
  decodeRoomEvent,
  InternalKind,
  type MemberInfo,
  type RoomEvent,
} from "@rookery/protocol/internal";
import {
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { memberOf } from "./load";
import { eventBody, startNode } from "./nodes";

describe("example rooms on a real node", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let node: ChildHandle;
  let gateway: ClusterMember;
  let router: RoomRouter;
  const prefix = testNamespace("example rooms on a node");
  const member = (user: string) => memberOf(gateway, user);

  beforeAll(async () => {
    server = await startNatsServer();
    node = await startNode(server.url, prefix, "ex-node");
    nc = await connect({ servers: server.url });
    gateway = new ClusterMember(nc, {
      identity: { id: "gw-ex", role: "gateway" },
      cluster: { prefix },
      sweeper: false,
    });
    await gateway.start();
    router = new RoomRouter(nc, { prefix });
  });
  afterAll(async () => {
    await gateway?.stop();
    await nc?.close();
    await node?.kill("SIGKILL");
    await server?.stop();
  });

  test("chess - two players, ordered authoritative moves, an illegal move changes nothing", async () => {
    const events: RoomEvent[] = [];
    nc.subscribe(`${prefix}.room.chess.g1.ev`, {
      callback: (_e, msg) => {
        const decoded = decodeRoomEvent(msg.data);
        if (decoded.ok) events.push(decoded.frame);
      },
    });
    const [white, black] = [member("white"), member("black")];
    for (const m of [white, black])
      await router.request("chess", "g1", { k: InternalKind.Join, member: m });
    const move = (m: MemberInfo, seq: number, from: string, to: string) =>
      router.request("chess", "g1", {
        k: InternalKind.Input,
        member: m.id,
        seq,
        type: "move",
        body: { from, to },
      });
    expect((await move(white, 1, "e2", "e4")).k).toBe(InternalKind.Acked);
    const wrongTurn = await move(white, 2, "d2", "d4");
    expect(wrongTurn).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
    const illegal = await move(black, 1, "e7", "e3");
    expect(illegal).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
    expect((await move(black, 2, "e7", "e5")).k).toBe(InternalKind.Acked);
    await until(
      () => events.filter((e) => e.type === "move").length === 2,
      5000,
      "two move events",
    );
    const moves = events
      .filter((e) => e.type === "move")
      .map((e) => eventBody(e) as { from: string; to: string });
    expect(moves.map((m) => `${m.from}${m.to}`)).toEqual(["e2e4", "e7e5"]);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  test("party queue - members add, only the leader may skip", async () => {
    const [ann, bob] = [member("ann"), member("bob")];
    for (const m of [ann, bob])
      await router.request("party", "p1", { k: InternalKind.Join, member: m });
    const send = (m: MemberInfo, seq: number, type: string, body: unknown) =>
      router.request("party", "p1", {
        k: InternalKind.Input,
        member: m.id,
        seq,
        type,
        body: body as never,
      });
    expect((await send(ann, 1, "add", { title: "Song A" })).k).toBe(InternalKind.Acked);
    expect((await send(bob, 1, "add", { title: "Song B" })).k).toBe(InternalKind.Acked);
    expect(await send(bob, 2, "skip", {})).toMatchObject({
      k: InternalKind.Err,
      code: "INPUT_REJECTED",
    });
    expect((await send(ann, 2, "skip", {})).k).toBe(InternalKind.Acked);
    const joined = await router.request("party", "p1", {
      k: InternalKind.Join,
      member: { ...bob, conn: "c2" },
    });
    if (joined.k !== InternalKind.Joined) throw new Error(JSON.stringify(joined));
    expect(joined.leader).toBe(ann.id);
    const state = joined.state as { items: { title: string }[] };
    expect(state.items.map((i) => i.title)).toEqual(["Song B"]);
  });

  test("metrics - /metrics reports rooms, activations, journal latency and mailbox depth", async () => {
    const ready = node.lines.find((l) => l.includes('"event":"ready"'))!;
    const { metricsPort } = JSON.parse(ready) as { metricsPort: number };
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
    expect(value("rookery_node_rooms_active")).toBeGreaterThanOrEqual(2);
    expect(value("rookery_node_room_activations_total")).toBeGreaterThanOrEqual(2);
    expect(value("rookery_node_journal_append_seconds_count")).toBeGreaterThan(0);
    expect(value("rookery_node_mailbox_depth")).toBe(0);
    expect(text).toContain("rookery_node_room_activation_seconds_bucket");
    expect(text).toMatch(
      /^rookery_node_build_info\{version="[^"]+",node_version="v\d+[^"]*"\} 1$/m,
    );
    expect(value("rookery_node_handler_seconds_count")).toBeGreaterThan(0);
    expect(text).toMatch(/^rookery_node_placements_total\{outcome="placed"\} \d+$/m);
    for (const family of [
      "handler_budget_interruptions_total",
      "lease_losses_total",
      "heartbeat_failstops_total",
      "nats_reconnects_total",
      "rehome_seconds",
      "draining",
    ]) {
      expect(text).toContain(`# TYPE rookery_node_${family} `);
    }
    expect(text).not.toMatch(/^rookery_(room|rooms|journal|mailbox)_/m);
  });
});
