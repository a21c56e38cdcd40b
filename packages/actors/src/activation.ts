import type { StoredMsg } from "@nats-io/jetstream";
import type { KvEntry } from "@nats-io/kv";
import type { Value } from "@rookery/protocol";
import { FencedJournal, FencedKey, leaseKey } from "@rookery/cluster/internal";
import { decodeSnapshot, type JournalEntry } from "./journal";
import { lastJournalMessage, readJournalFrom } from "./journal-reader";
import { JournalReplayError } from "./replies";
import type { RoomDefinition } from "./room";
import { RoomCore, type CoreEvent } from "./room-core";
import type { ActorDeps } from "./room-actor";

/** What an activation reads first; see {@link prefetch}. */
export interface Prefetched {
  entry: KvEntry | null;
  last: StoredMsg | null;
}

/** A room as its activation found it: state up to the journal's end, writers fenced on what was read. */
export interface Loaded {
  core: RoomCore;
  snapshotFence: FencedKey;
  /** Durable rooms: the journal writer, positioned after the last message read. */
  journal: FencedJournal | undefined;
  /** The journal sequence the state includes (0 for an ephemeral room). */
  journalSeq: number;
  /** Members whose presence the replayed tail changed (the previous owner may not have mirrored them). */
  moved: string[];
  /** Events of the replayed tail: the previous owner may have died before publishing them. */
  replayed: CoreEvent[];
}

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;

/** Replay's handler budget floor: re-homing hundreds of rooms at once slows every handler. */
const REPLAY_BUDGET_MS = 2000;

/**
 * The reads an activation starts with (snapshot, journal head). The host
 * runs them beside the lease CAS: reading before owning is safe, because
 * the activation's fencing writes are conditional on exactly what was
 * read, so a stale read fails them (and the activation reads again).
 */
export async function prefetch(
  deps: ActorDeps,
  room: { type: string; id: string },
  durable: boolean,
): Promise<Prefetched> {
  const { buckets, jsm } = deps;
  const subject = buckets.names.journalSubject(room.type, room.id);
  const [entry, last] = await Promise.all([
    buckets.state.get(leaseKey(room.type, room.id)),
    durable ? lastJournalMessage(jsm, buckets.names.journalStream, subject) : null,
  ]);
  return { entry, last };
}

/** Rebuilds the room from its snapshot and (durable) the journal tail after it. */
export async function load(
  deps: ActorDeps,
  definition: AnyRoom,
  room: { type: string; id: string },
  durable: boolean,
  { entry, last }: Prefetched,
): Promise<Loaded> {
  const { buckets, options, alive } = deps;
  const key = leaseKey(room.type, room.id);
  const snapshot = entry?.operation === "PUT" ? decodeSnapshot(entry.value) : null;
  const snapshotFence = new FencedKey(buckets.state, key, entry?.revision ?? 0, alive);
  const budget = options.handlerBudgetMs;
  const core = new RoomCore(definition, room, snapshot, budget, options.dedupeWindow);
  const loaded: Loaded = {
    core,
    snapshotFence,
    journal: undefined,
    journalSeq: snapshot?.journalSeq ?? 0,
    moved: [],
    replayed: [],
  };
  if (!durable) return loaded;
  const stream = buckets.names.journalStream;
  const tail = await readJournalFrom(deps.jsm, stream, last, loaded.journalSeq);
  const replayBudget = Math.max(REPLAY_BUDGET_MS, budget * 8);
  for (const e of tail.entries)
    loaded.replayed.push(...replay(core, e, key, tail.lastSeq, replayBudget));
  loaded.moved = tail.entries.flatMap((e) =>
    e.k === "join" ? [e.member.id] : e.k === "leave" ? [e.member] : [],
  );
  loaded.journalSeq = tail.lastSeq;
  const subject = buckets.names.journalSubject(room.type, room.id);
  loaded.journal = new FencedJournal(deps.js, subject, tail.lastSeq, alive);
  return loaded;
}

/**
 * Only entries that succeeded are journaled (refusals as `reject` entries,
 * which run no handler), so one that throws now would make the room differ
 * from what was acknowledged: the activation fails, loudly, instead.
 */
function replay(
  core: RoomCore,
  entry: JournalEntry,
  key: string,
  journalSeq: number,
  budgetMs: number,
): CoreEvent[] {
  if (core.includes(entry)) return [];
  try {
    return core.replay(entry, budgetMs).events;
  } catch (error) {
    throw new JournalReplayError(key, entry.k, journalSeq, { cause: error });
  }
}
