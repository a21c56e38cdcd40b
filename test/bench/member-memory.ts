/**
 * What one joined member costs in a room actor (`npm run bench -- members`):
 * heap bytes per member of one room of 5,000 members, right after joining
 * and again once each has sent enough inputs to fill its dedupe window.
 * Counts the core's member record and dedupe window, the presence mirror,
 * the event log and the member's share of the mailbox; not the storage
 * (presence records land in NATS KV, so this storage keeps none).
 * Needs `--expose-gc` (`npm run bench` passes it). ROOKERY_BENCH_BASELINE
 * (see core.ts) measures another copy of packages/actors/src instead.
 */
import { join } from "node:path";
import pino from "pino";
import { defineRoom, Durability, resolveRuntimeOptions } from "@rookery/actors";
import * as internal from "@rookery/actors/internal";
import type { ActorDeps, Inbound, RoomActor, Served, Transport } from "@rookery/actors/internal";
import { names } from "@rookery/protocol";
import { InternalKind, type MemberInfo } from "@rookery/protocol/internal";

const MEMBERS = Number(process.env.ROOKERY_BENCH_MEMBERS ?? 5000);

/** A counter: each input is acknowledged with the new count (a small result, as most acks carry). */
const counterRoom = defineRoom({
  type: "counter",
  durability: Durability.Ephemeral,
  initialState: () => ({ n: 0 }),
  onMessage: {
    inc: (ctx) => {
      ctx.state.n += 1;
      return ctx.state.n;
    },
  },
});

/** Events go nowhere: the bench measures the actor, not a broker. */
class NullTransport implements Transport {
  subscribe(): Served {
    return { unsubscribe: () => undefined, drain: async () => undefined };
  }
  publish(): void {}
  request(): Promise<Uint8Array> {
    return Promise.reject(new Error("no responders"));
  }
  async flush(): Promise<void> {}
  handle?(msg: Inbound): void;
}

/** Heap in use after the event loop settled (replies just sent are still held until then). */
async function heap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 50));
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc (npm run bench -- members)");
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const member = (i: number): MemberInfo => ({
  id: `user-${i}:session-${i}-0000000${i % 10}`,
  user: `user-${i}`,
  name: `Player ${i}`,
  gateway: `gw-${i % 4}`,
  gatewayEpoch: `epoch-${i % 4}`,
  conn: `c-${i}`,
});

export async function runMembers(): Promise<void> {
  const baseline = process.env.ROOKERY_BENCH_BASELINE;
  const runtime = (
    baseline ? await import(join(baseline, "internal.ts")) : internal
  ) as typeof internal;
  /** Presence records are dropped: in production they are in NATS KV, not this process. */
  class NoPresenceStorage extends runtime.MemoryRoomStorage {
    override async putPresence(): Promise<void> {}
  }
  const options = resolveRuntimeOptions({ quietSnapshotMs: 0 });
  const deps: ActorDeps<RoomActor> = {
    storage: new NoPresenceStorage(),
    transport: new NullTransport(),
    names: names("bench"),
    nodeId: "n1",
    alive: () => true,
    gatewayLive: () => true,
    options,
    batch: new runtime.HandlerBatch(options.handlerBudgetMs, () => undefined),
    log: pino({ level: "silent" }),
    onStopped: () => undefined,
  };
  const lease = {
    type: "counter",
    id: "big",
    key: "counter.big",
    roomEpoch: 1,
    revision: 1,
    ownerEpoch: "e",
    takenOver: false,
  };
  const actor = new runtime.RoomActor(
    counterRoom as never,
    { type: "counter", id: "big" },
    lease,
    deps,
  );
  await actor.activate();
  // Each request brings its own strings, as a decoded one does: what the room keeps of them counts.
  const everyone = Array.from({ length: MEMBERS }, (_, i) => i);
  const start = await heap();
  await Promise.all(
    everyone.map((i) => actor.request({ k: InternalKind.Join, member: member(i) })),
  );
  const joined = await heap();
  const inputs = runtime.DEFAULT_DEDUPE_WINDOW + 8;
  for (let seq = 1; seq <= inputs; seq++) {
    await Promise.all(
      everyone.map((i) =>
        actor.request({
          k: InternalKind.Input,
          member: member(i).id,
          seq,
          type: "inc",
          body: null,
        }),
      ),
    );
  }
  const full = await heap();
  const perMember = (bytes: number) => `${Math.round(bytes / MEMBERS)} bytes`;
  console.log(`room actor memory, ${MEMBERS} members of one room${baseline ? " (baseline)" : ""}:`);
  console.log(`  joined, no input yet:        ${perMember(joined - start)} per member`);
  console.log(`  after ${inputs} inputs each (window full): ${perMember(full - start)} per member`);
  actor.stop("bench over");
}

if (import.meta.url === `file://${process.argv[1]}`) await runMembers();
