/**
 * The end of a run: wait for every input to settle and every client to be
 * back in its room, then read the final state with a fresh client and
 * from the cluster's KV buckets.
 */
import { Kvm, type KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { clusterNames } from "@rookery/cluster";
import {
  decodeLeaseRecord,
  decodePresenceRecord,
  decodeProcessRecord,
  leaseKey,
} from "@rookery/cluster/internal";
import { presenceRoomFilter } from "@rookery/protocol/internal";
import { until } from "@rookery/testkit";
import type { FinalRoom, LeaseView } from "./history";
import { CHAOS_ROOM_TYPE } from "./ledger-room";
import { Watcher, type Clock, type Player } from "./player";
import type { System } from "./processes";

/**
 * Longest wait for inputs to settle: past the gateway's 20 s internal retry
 * of an input and the SDK's default `inputTimeoutMs` (60 s), after which an
 * input must have been rejected.
 */
const SETTLE_MS = 75_000;
const REJOIN_MS = 30_000;
/** Ghost removal takes the reconnect grace (5 s) or a TTL plus a sweep. */
const CONVERGE_MS = 20_000;
/** The presence mirror is written behind the room (retried every 0.5 s). */
const PRESENCE_MS = 15_000;

/** Waits without failing: a condition still false at the deadline is the checker's to report. */
async function settle(fn: () => boolean | Promise<boolean>, ms: number, what: string) {
  const started = performance.now();
  const ok = await until(fn, ms, what).then(
    () => true,
    () => false,
  );
  return { what, ok, ms: Math.round(performance.now() - started) };
}

export async function quiesce(players: readonly Player[]) {
  return [
    await settle(() => players.every((p) => p.pending === 0), SETTLE_MS, "inputs settled"),
    await settle(() => players.every((p) => p.inRoom(p.roomId)), REJOIN_MS, "clients in rooms"),
  ];
}

export interface FinalRead {
  final: FinalRoom[];
  auditor: string;
  liveNodes: string[];
  waits: { what: string; ok: boolean; ms: number }[];
  close(): void;
}

export async function readFinal(
  system: System,
  players: readonly Player[],
  monitor: NatsConnection,
  clock: Clock,
): Promise<FinalRead> {
  const rooms = [...new Set(players.map((p) => p.roomId))].sort();
  const auditor = new Watcher("auditor", clock);
  await auditor.connect(system.discoveryUrls());
  for (const room of rooms) {
    await until(() => auditor.join(room).then(Boolean), REJOIN_MS, `auditor joins ${room}`);
  }
  const converged = await settle(
    () => rooms.every((room) => roomConverged(auditor, players, room)),
    CONVERGE_MS,
    "views and members converged",
  );
  const kv = new Kvm(monitor);
  const names = clusterNames(system.prefix);
  const presence = await kv.open(names.presenceBucket);
  const leases = await kv.open(names.leasesBucket);
  const readRooms = () =>
    Promise.all(
      rooms.map(async (room) => ({
        room,
        items: auditor.recorders.get(room)!.items(),
        members: memberIds(auditor, room),
        ...(await presenceOf(presence, room).catch(() => ({}))),
        lease: await leaseOf(leases, room).catch(() => undefined),
      })),
    );
  let final = await readRooms();
  const mirrored = await settle(
    async () => {
      final = await readRooms();
      return final.every((f) => f.presence?.join() === f.members.join());
    },
    PRESENCE_MS,
    "presence mirrors members",
  );
  return {
    final,
    auditor: auditor.client.member,
    liveNodes: await liveNodes(kv, system),
    waits: [converged, mirrored],
    close: () => auditor.client.close(),
  };
}

function memberIds(watcher: Watcher, room: string): string[] {
  return (watcher.recorders.get(room)?.room?.members ?? []).map((m) => m.id).sort();
}

/** Every client still in the room holds the auditor's list and member set; no ghost remains. */
function roomConverged(auditor: Watcher, players: readonly Player[], room: string): boolean {
  const items = auditor.recorders.get(room)!.items().join();
  const members = memberIds(auditor, room).join();
  const live = players.filter((p) => p.roomId === room && p.inRoom(room));
  const expected = [...live.map((p) => p.client.member), auditor.client.member].sort().join();
  return (
    members === expected &&
    live.every(
      (p) =>
        p.recorders.get(room)!.items().join() === items && memberIds(p, room).join() === members,
    )
  );
}

/** Members with a record in the presence bucket, and keys whose last operation removed one. */
async function presenceOf(bucket: KV, room: string) {
  const members: string[] = [];
  const removedKeys: string[] = [];
  for await (const key of await bucket.keys(presenceRoomFilter(CHAOS_ROOM_TYPE, room))) {
    const entry = await bucket.get(key);
    if (entry?.operation === "PUT") members.push(decodePresenceRecord(key, entry.value).member);
    else removedKeys.push(`${key} (${entry?.operation ?? "gone"} rev ${entry?.revision ?? "?"})`);
  }
  return { presence: members.sort(), presenceRemoved: removedKeys };
}

async function leaseOf(bucket: KV, room: string): Promise<LeaseView | undefined> {
  const key = leaseKey(CHAOS_ROOM_TYPE, room);
  const entry = await bucket.get(key);
  if (entry?.operation !== "PUT") return undefined;
  const { owner, ownerEpoch, roomEpoch } = decodeLeaseRecord(key, entry.value);
  return { owner, ownerEpoch, roomEpoch };
}

/** `<id>/<epoch>` of every running node whose heartbeat a majority of the buckets holds. */
async function liveNodes(kv: Kvm, system: System): Promise<string[]> {
  const buckets = clusterNames(system.prefix).nodesBuckets(system.nats.servers.length);
  const counts = new Map<string, number>();
  for (const name of buckets) {
    const bucket = await kv.open(name);
    for (const proc of system.list("node")) {
      const key = `node.${proc.id}`;
      const entry = await bucket.get(key).catch(() => null);
      if (entry?.operation !== "PUT") continue;
      const record = decodeProcessRecord(key, entry.value);
      const id = `${record.id}/${record.epoch}`;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  const running = new Set(system.list("node").flatMap((p) => (p.alive ? [p.id] : [])));
  return [...counts]
    .filter(([id, n]) => n > buckets.length / 2 && running.has(id.split("/")[0]!))
    .map(([id]) => id);
}
