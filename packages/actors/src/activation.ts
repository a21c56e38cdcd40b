import type { Value } from "@rookery/protocol";
import { leaseKey } from "@rookery/cluster/internal";
import type { ActorDeps } from "./actor-deps";
import { decodeSnapshot, encodeBatch, type EpochMarker, type JournalEntry } from "./journal";
import { readJournalTail } from "./journal-reader";
import { JournalReplayError } from "./replies";
import type { RoomDefinition } from "./room";
import { RoomCore, type CoreEvent } from "./room-core";
import type {
  FencedAppender,
  FencedWriter,
  JournalMessage,
  RoomRef,
  StoredSnapshot,
} from "./storage";

/** What an activation reads first; see {@link prefetch}. */
export interface Prefetched {
  snapshot: StoredSnapshot;
  last: JournalMessage | null;
}

/** A room as its activation found it: state up to the journal's end, writers fenced on what was read. */
export interface Loaded {
  core: RoomCore;
  snapshotFence: FencedWriter;
  /** Durable rooms: the journal writer, positioned after the last message read. */
  journal: FencedAppender | undefined;
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
  deps: Pick<ActorDeps, "storage">,
  room: RoomRef,
  durable: boolean,
): Promise<Prefetched> {
  const { storage } = deps;
  const [snapshot, last] = await Promise.all([
    storage.loadSnapshot(room),
    durable ? storage.journalHead(room) : null,
  ]);
  return { snapshot, last };
}

/** Rebuilds the room from its snapshot and (durable) the journal tail after it. */
export async function load(
  deps: Pick<ActorDeps, "storage" | "options" | "alive">,
  definition: AnyRoom,
  room: RoomRef,
  durable: boolean,
  { snapshot: stored, last }: Prefetched,
): Promise<Loaded> {
  const { storage, options, alive } = deps;
  const key = leaseKey(room.type, room.id);
  const snapshot = stored.value ? decodeSnapshot(stored.value) : null;
  const snapshotFence = storage.openSnapshot(room, stored.revision, alive);
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
  const tail = await readJournalTail(storage, room, last, loaded.journalSeq);
  const replayBudget = Math.max(REPLAY_BUDGET_MS, budget * 8);
  for (const e of tail.entries)
    loaded.replayed.push(...replay(core, e, key, tail.lastSeq, replayBudget));
  loaded.moved = tail.entries.flatMap((e) =>
    e.k === "join" ? [e.member.id] : e.k === "leave" ? [e.member] : [],
  );
  loaded.journalSeq = tail.lastSeq;
  loaded.journal = storage.openJournal(room, tail.lastSeq, alive);
  return loaded;
}

/**
 * Fences the previous owner once the room is loaded: an epoch marker
 * appended to the journal (replaying it is a no-op) fences its appends, and
 * the snapshot written at the revision read fences its snapshot writes. The
 * two run in parallel: after a node dies, hundreds of rooms activate at
 * once and round trips add up.
 */
export async function fence(
  loaded: Loaded,
  owner: Pick<EpochMarker, "epoch" | "node">,
  snapshot: Uint8Array,
): Promise<void> {
  const marker: EpochMarker = { k: "epoch", ...owner, at: Date.now() };
  const writes: Promise<number>[] = [];
  if (loaded.journal) writes.push(loaded.journal.append(encodeBatch(loaded.journalSeq, [marker])));
  writes.push(loaded.snapshotFence.write(snapshot));
  await Promise.all(writes);
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
