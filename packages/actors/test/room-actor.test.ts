import pino from "pino";
import { describe, expect, test } from "vitest";
import { names } from "@rookery/protocol";
import { InternalKind, type RoomReply, type RoomRequest } from "@rookery/protocol/internal";
import type { Lease } from "@rookery/cluster";
import { until } from "@rookery/testkit";
import { resolveRuntimeOptions, type RuntimeOptions } from "../src/options";
import { HandlerBatch } from "../src/handler-batch";
import { MemoryRoomStorage } from "../src/memory-storage";
import { RoomActor, type ActorDeps } from "../src/room-actor";
import { Phase } from "../src/room-lifecycle";
import { MemoryTransport } from "../src/memory-transport";
import { ledgerRoom } from "./fixtures/rooms";
import { expectKind, memberInfo } from "./helpers";

const room = { type: "ledger", id: "unit" };
const alice = memberInfo("alice");

/** A node's shared actor dependencies on the given storage. */
function node(storage: MemoryRoomStorage, options: RuntimeOptions = {}) {
  const stopped: string[] = [];
  const log = pino({ level: "silent" });
  const resolved = resolveRuntimeOptions({ quietSnapshotMs: 0, ...options });
  const deps: ActorDeps<RoomActor> = {
    storage,
    transport: new MemoryTransport(),
    names: names("unit"),
    nodeId: "n1",
    alive: () => true,
    gatewayLive: () => true,
    options: resolved,
    batch: new HandlerBatch(resolved.handlerBudgetMs, () => undefined),
    log,
    onStopped: (_actor, reason) => stopped.push(reason),
  };
  return { deps, stopped };
}

function lease(roomEpoch: number): Lease {
  const { type, id } = room;
  return {
    type,
    id,
    key: `${type}.${id}`,
    roomEpoch,
    revision: roomEpoch,
    ownerEpoch: "e",
    takenOver: false,
  };
}

async function activate(storage: MemoryRoomStorage, epoch: number, options?: RuntimeOptions) {
  const { deps, stopped } = node(storage, options);
  const actor = new RoomActor(ledgerRoom as never, room, lease(epoch), deps);
  await actor.activate();
  return { actor, stopped };
}

const input = (seq: number): RoomRequest => ({
  k: InternalKind.Input,
  member: alice.id,
  seq,
  type: "add",
  body: { n: seq, tag: `t${seq}` },
});
const join: RoomRequest = { k: InternalKind.Join, member: alice };
const acked = (reply: RoomReply) => expectKind(reply, InternalKind.Acked);

describe("room actor on memory storage", () => {
  test("actor - activates from its snapshot and the journal tail after it", async () => {
    const storage = new MemoryRoomStorage();
    const first = await activate(storage, 1, { snapshotEvery: 3 });
    expect(first.actor.phase).toBe(Phase.Serving);
    expectKind(await first.actor.request(join), InternalKind.Joined);
    for (let seq = 1; seq <= 7; seq++) acked(await first.actor.request(input(seq)));
    // A snapshot was written past 3 entries; the entries after it are only in the journal.
    await until(
      async () => ((await storage.loadSnapshot(room)).revision ?? 0) > 1,
      2000,
      "snapshot written",
    );
    first.actor.stop("crash");
    expect(first.actor.phase).toBe(Phase.Stopped);

    const second = await activate(storage, 2);
    const dup = acked(await second.actor.request(input(7)));
    expect(dup).toMatchObject({ dup: true, result: 28 });
    expect(acked(await second.actor.request(input(8))).result).toBe(36);
    expect(second.actor.snapshot(0).state).toMatchObject({
      applied: ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"],
    });
  });

  test("actor - a fenced append is refused once a newer epoch wrote: the old actor stops and acknowledges nothing", async () => {
    const storage = new MemoryRoomStorage();
    const old = await activate(storage, 1);
    expectKind(await old.actor.request(join), InternalKind.Joined);
    acked(await old.actor.request(input(1)));
    const heir = await activate(storage, 2);

    const refused = await old.actor.request(input(2));
    expect(refused).toMatchObject({ k: InternalKind.Err, code: "ROOM_MOVED" });
    expect(old.actor.stopped).toBe(true);
    expect(old.stopped).toEqual(["journal: OwnershipLostError"]);
    // The newer owner never sees the refused input; it serves it afresh.
    expect(acked(await heir.actor.request(input(2))).dup).toBeUndefined();
    const heads = storage.journal(room).length;
    expect((await old.actor.request(input(3))).k).toBe(InternalKind.Err);
    expect(storage.journal(room)).toHaveLength(heads);
  });

  test("actor - replaying the journal alone rebuilds exactly the state the live actor had", async () => {
    const storage = new MemoryRoomStorage();
    const live = await activate(storage, 1, { snapshotEvery: 1_000_000 });
    expectKind(await live.actor.request(join), InternalKind.Joined);
    // Concurrent requests: several share one group-commit batch.
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) => live.actor.request(input(i + 1))),
    );
    for (const reply of replies) acked(reply);
    expect(acked(await live.actor.request(input(39))).dup).toBe(true);
    const before = live.actor.snapshot(0);
    live.actor.stop("crash");

    // Only the activation's own snapshot exists: the heir replays every entry.
    const heir = await activate(storage, 2);
    const after = heir.actor.snapshot(0);
    const { state, members, leader, seq, dedupe, timers, rng, n } = before;
    expect(after).toMatchObject({ state, members, leader, seq, dedupe, timers, rng, n });
    expect(after.epoch).toBe(2);
  });

  test("actor - a transient append failure is retried with the same message id: nothing doubles", async () => {
    const storage = new MemoryRoomStorage();
    const { actor } = await activate(storage, 1);
    expectKind(await actor.request(join), InternalKind.Joined);
    // Stored, but the acknowledgement and the duplicate window were lost (a leader change).
    storage.failAppends(1, { landed: true, forget: true });
    expect(acked(await actor.request(input(1))).result).toBe(1);
    // Failed before it was stored.
    storage.failAppends(1, { landed: false });
    expect(acked(await actor.request(input(2))).result).toBe(3);
    expect(actor.stopped).toBe(false);
    const inputs = actor.snapshot(0).state as { applied: string[] };
    expect(inputs.applied).toEqual(["t1", "t2"]);
    // Marker, join, two inputs: each stored once.
    expect(storage.journal(room)).toHaveLength(4);
  });
});
