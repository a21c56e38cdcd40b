import { afterEach, describe, expect, test } from "vitest";
import { encodeFrame, names } from "@rookery/protocol";
import {
  decodePlaceReply,
  InternalKind,
  type MemberInfo,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import { until } from "@rookery/testkit";
import {
  ActorHost,
  MemoryCluster,
  type MemoryMember,
  type RuntimeOptions,
} from "@rookery/actors/internal";
import { ledgerRoom } from "./fixtures/rooms";
import { expectKind, memberInfo } from "./helpers";

const hosts: ActorHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

/** A started host on the in-memory cluster. */
async function host(cluster: MemoryCluster, id: string, options: RuntimeOptions = {}) {
  const member = cluster.join(id, { load: () => 0 });
  const started = new ActorHost(member, [ledgerRoom] as never, {
    idleMs: 0,
    quietSnapshotMs: 0,
    ...options,
  });
  await started.start();
  hosts.push(started);
  return started;
}

/** A member connected through a live gateway process (ghosts are dropped at activation). */
function player(gateway: MemoryMember, user: string): MemberInfo {
  return memberInfo(user, gateway.id, gateway.epoch);
}

const join = (member: MemberInfo): RoomRequest => ({ k: InternalKind.Join, member });
const input = (member: MemberInfo, seq: number): RoomRequest => ({
  k: InternalKind.Input,
  member: member.id,
  seq,
  type: "add",
  body: { n: seq, tag: `t${seq}` },
});
const acked = (reply: RoomReply) => expectKind(reply, InternalKind.Acked);
const ledger = (host: ActorHost, id: string) =>
  host.actor("ledger", id)?.snapshot(0).state as { applied: string[]; total: number } | undefined;

describe("actor host on the in-memory cluster", () => {
  test("host - concurrent placements of one room activate it once, on one node", async () => {
    const cluster = new MemoryCluster();
    const [a, b] = [await host(cluster, "n1"), await host(cluster, "n2")];
    const outcomes: string[] = [];
    for (const h of [a, b]) h.on("placement", (outcome) => outcomes.push(outcome));
    const subject = names(cluster.prefix).subjects.place("ledger");
    const place = encodeFrame({ k: InternalKind.Place, room: { type: "ledger", id: "r1" } });
    const replies = await Promise.all(
      Array.from({ length: 20 }, async () =>
        decodePlaceReply(await cluster.transport.request(subject, place, 2000)),
      ),
    );
    const direct = await Promise.all([a, b, a, b].map((h) => h.activate("ledger", "r1")));

    const placed = replies.map((r) => (r.ok ? r.frame : undefined));
    const owner = a.size === 1 ? "n1" : "n2";
    expect(placed).toEqual(Array(20).fill({ k: InternalKind.Placed, node: owner, epoch: 1 }));
    expect(a.size + b.size).toBe(1);
    expect(new Set(direct.filter(Boolean)).size).toBe(1);
    expect(cluster.lease("ledger", "r1")).toMatchObject({ owner, roomEpoch: 1 });
    expect(outcomes).toHaveLength(20);
    expect(outcomes.every((o) => o === "placed" || o === "owner")).toBe(true);
  });

  test("host - the rooms of a node declared down are re-homed with their journaled state", async () => {
    const cluster = new MemoryCluster();
    const gateway = cluster.join("gw", { role: "gateway" });
    const alice = player(gateway, "alice");
    const [a, b] = [await host(cluster, "n1"), await host(cluster, "n2")];
    const actor = (await a.activate("ledger", "r1"))!;
    expectKind(await actor.request(join(alice)), InternalKind.Joined);
    for (const seq of [1, 2, 3]) acked(await actor.request(input(alice, seq)));
    const rehomed: [string, number][] = [];
    b.on("rehomed", (dead, rooms) => rehomed.push([dead.id, rooms]));

    cluster.crash("n1");
    // Fail-stop stops every actor at once, before anyone may take over.
    expect(a.size).toBe(0);
    expect(actor.stopped).toBe(true);
    await until(() => b.serving("ledger", "r1") !== undefined, 2000, "re-homed on n2");

    const heir = b.actor("ledger", "r1")!;
    expect(heir.lease).toMatchObject({ roomEpoch: 2, takenOver: true });
    expect(ledger(b, "r1")).toEqual({ applied: ["t1", "t2", "t3"], total: 6 });
    expect(rehomed).toEqual([["n1", 1]]);
    // The journaled outcome follows the room: a resend is a duplicate, not a second input.
    expect(acked(await heir.request(input(alice, 3)))).toMatchObject({ dup: true, result: 6 });
    expect(cluster.lease("ledger", "r1")).toMatchObject({ owner: "n2", roomEpoch: 2 });
  });

  test("host - drain hands every room over: snapshot written, lease freed, state kept", async () => {
    const cluster = new MemoryCluster();
    const gateway = cluster.join("gw", { role: "gateway" });
    const alice = player(gateway, "alice");
    const [a, b] = [await host(cluster, "n1"), await host(cluster, "n2")];
    const stopped: string[] = [];
    a.on("stopped", (actor, reason) => stopped.push(`${actor.key} ${reason}`));
    const rooms = ["d1", "d2", "d3"];
    for (const id of rooms) {
      const actor = (await a.activate("ledger", id))!;
      expectKind(await actor.request(join(alice)), InternalKind.Joined);
      acked(await actor.request(input(alice, 1)));
    }

    await a.drain();
    expect(a.size).toBe(0);
    expect(stopped.sort()).toEqual(rooms.map((id) => `ledger.${id} drain`));
    for (const id of rooms) {
      expect(cluster.lease("ledger", id)).toMatchObject({ owner: null, roomEpoch: 1 });
      const heir = (await b.activate("ledger", id))!;
      expect(heir.lease).toMatchObject({ roomEpoch: 2, takenOver: false });
      expect(ledger(b, id)).toEqual({ applied: ["t1"], total: 1 });
    }
    // A drained host takes no placement.
    expect(await a.activate("ledger", "d4")).toBeUndefined();
  });

  test("host - an owner fenced by a newer epoch stops serving and leaves the lease to it", async () => {
    const cluster = new MemoryCluster();
    const gateway = cluster.join("gw", { role: "gateway" });
    const alice = player(gateway, "alice");
    const [a, b] = [await host(cluster, "n1"), await host(cluster, "n2")];
    const stopped: string[] = [];
    a.on("stopped", (_actor, reason) => stopped.push(reason));
    const old = (await a.activate("ledger", "r1"))!;
    expectKind(await old.request(join(alice)), InternalKind.Joined);
    acked(await old.request(input(alice, 1)));

    // The others see n1 down; n1 does not know (a partition) and still serves.
    cluster.partition("n1");
    await until(() => b.serving("ledger", "r1") !== undefined, 2000, "taken over by n2");
    expect(old.serving).toBe(true);

    const refused = await old.request(input(alice, 2));
    expect(refused).toMatchObject({ k: InternalKind.Err, code: "ROOM_MOVED" });
    expect(old.stopped).toBe(true);
    expect(a.size).toBe(0);
    expect(a.serving("ledger", "r1")).toBeUndefined();
    expect(stopped).toHaveLength(1);
    await a.stop(); // waits for its release attempt, which the CAS refuses
    expect(cluster.lease("ledger", "r1")).toMatchObject({ owner: "n2", roomEpoch: 2 });
    // The refused input was never journaled: the heir runs it afresh.
    const heir = b.actor("ledger", "r1")!;
    expect(acked(await heir.request(input(alice, 2))).dup).toBeUndefined();
    expect(ledger(b, "r1")).toEqual({ applied: ["t1", "t2"], total: 3 });
  });

  test("host - on() adds listeners; a dead gateway's members leave its rooms", async () => {
    const cluster = new MemoryCluster();
    const gateway = cluster.join("gw", { role: "gateway" });
    const a = await host(cluster, "n1");
    const seen: string[] = [];
    a.on("activated", (actor) => seen.push(`first ${actor.key}`));
    a.on("activated", (actor) => seen.push(`second ${actor.key}`));
    const actor = (await a.activate("ledger", "r1"))!;
    expect(seen).toEqual(["first ledger.r1", "second ledger.r1"]);

    expectKind(await actor.request(join(player(gateway, "alice"))), InternalKind.Joined);
    cluster.crash("gw");
    await until(() => actor.snapshot(0).members.length === 0, 2000, "alice dropped");
    expect(a.size).toBe(1);
  });
});
