import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RoomRouter } from "@rookery/cluster";
import { InternalKind, type RoomReply } from "@rookery/protocol/internal";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { fixtures, startNode } from "./nodes";

const runawayRooms = new URL(
  "../../../packages/actors/test/fixtures/runaway-rooms.ts",
  import.meta.url,
).pathname;

const member = {
  id: "alice:session-alice-00000001",
  user: "alice",
  name: "alice",
  gateway: "gw-test",
  gatewayEpoch: "e0",
  conn: "c-alice",
};

type Err = Extract<RoomReply, { k: "err" }>;

/**
 * The cooperative handler budget in a real node process: the room modules it
 * loads are instrumented as they load (docs/node.md, "Mailbox and handlers").
 */
describe("cooperative handler budget in a node process", () => {
  let server: NatsServer;
  let node: ChildHandle;
  let nc: NatsConnection;
  let router: RoomRouter;
  const seqs = new Map<string, number>();
  const send = (type: string, id: string, kind: string, body: unknown = null) => {
    const key = `${type}/${id}`;
    const seq = (seqs.get(key) ?? 0) + 1;
    seqs.set(key, seq);
    return router.request(type, id, {
      k: InternalKind.Input,
      member: member.id,
      seq,
      type: kind,
      body: body as never,
    });
  };
  const join = async (type: string, id: string) =>
    expect((await router.request(type, id, { k: InternalKind.Join, member })).k).toBe(
      InternalKind.Joined,
    );

  beforeAll(async () => {
    server = await startNatsServer();
    const prefix = testNamespace("cooperative budget");
    node = await startNode(server.url, prefix, "coop", {
      ROOKERY_ROOM_MODULES: `${fixtures},${runawayRooms}`,
      ROOKERY_LOG_LEVEL: "info",
    });
    nc = await connect({ servers: server.url });
    router = new RoomRouter(nc, { prefix, totalWaitMs: 10_000 });
  });
  afterAll(async () => {
    await nc?.close();
    await node?.kill("SIGKILL").catch(() => undefined);
    await server?.stop();
  });

  test("coop budget - the node instruments its room modules; a definition not made by defineRoom keeps the vm timeout", async () => {
    const line = await node.waitForLine(/room types loaded/, 1000);
    const loaded = JSON.parse(line) as { instrumented: string[]; vmTimeout: string[] };
    expect(loaded.instrumented).toEqual(
      expect.arrayContaining(["chess", "party", "ledger", "flaky", "runaway"]),
    );
    expect(loaded.vmTimeout).toEqual(["prunaway"]);
  });

  test("coop budget - a runaway loop in an instrumented room is cut off at its budget and rejected; the room is unharmed and another room is served meanwhile", async () => {
    await join("runaway", "bad");
    await join("ledger", "good");
    const started = performance.now();
    const spin = send("runaway", "bad", "spin", { ms: 5000 }).then((r) => ({
      reply: r,
      ms: performance.now() - started,
    }));
    const good = await Promise.all(
      [1, 2, 3].map((n) => send("ledger", "good", "add", { n, tag: `g${n}` })),
    );
    const goodMs = performance.now() - started;
    expect(good.map((r) => r.k)).toEqual([
      InternalKind.Acked,
      InternalKind.Acked,
      InternalKind.Acked,
    ]);
    const { reply, ms } = await spin;
    expect(reply).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
    expect((reply as Err).message).toMatch(/interrupted/);
    // Cut at its 250 ms budget (not run for its 5 s); the other room waited at most that long.
    expect(ms).toBeLessThan(1500);
    expect(goodMs).toBeLessThan(1500);
    // The room kept its previous state: the runaway's +1000 is gone.
    expect(await send("runaway", "bad", "inc")).toMatchObject({ k: InternalKind.Acked, result: 1 });
  });

  test("coop budget - a handler that catches the interruption (in its loop, or around it) or recurses on is still cut off", async () => {
    await join("runaway", "stubborn");
    for (const kind of ["stubborn", "swallow", "recurse"]) {
      const started = performance.now();
      const reply = await send("runaway", "stubborn", kind, { ms: 5000 });
      expect(reply, kind).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
      expect((reply as Err).message, kind).toMatch(/interrupted/);
      expect(performance.now() - started, kind).toBeLessThan(1500);
    }
    expect(await send("runaway", "stubborn", "inc")).toMatchObject({
      k: InternalKind.Acked,
      result: 1,
    });
  });

  test("coop budget - an uninstrumented definition in the same node still gets the vm timeout", async () => {
    await join("prunaway", "bad");
    await join("ledger", "good2");
    const started = performance.now();
    const spin = send("prunaway", "bad", "stubborn", { ms: 5000 });
    const good = await send("ledger", "good2", "add", { n: 1, tag: "x" });
    expect(good.k).toBe(InternalKind.Acked);
    const reply = await spin;
    expect(reply).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
    expect((reply as Err).message).toMatch(/interrupted/);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(await send("prunaway", "bad", "inc")).toMatchObject({
      k: InternalKind.Acked,
      result: 1,
    });
    // Instrumented rooms of the node still run without it, before and after.
    expect(await send("runaway", "bad", "inc")).toMatchObject({ k: InternalKind.Acked, result: 2 });
  });
});
