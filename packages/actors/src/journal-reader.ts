import { decodeBatch, type JournalEntry } from "./journal";
import type { JournalMessage, RoomRef, RoomStorage } from "./storage";

export interface JournalTail {
  /** Sequence of the room's last journal message (0 if none). */
  lastSeq: number;
  /** Entries after `afterSeq`, in order. */
  entries: JournalEntry[];
}

/**
 * A journal message the back links name could not be read: the tail would
 * miss acknowledged entries, so the activation fails instead of serving.
 */
export class JournalGapError extends Error {
  readonly code = "JOURNAL_GAP";
  override readonly name = "JournalGapError";
  constructor(
    /** The room (`<type>.<id>`) whose journal has the gap. */
    readonly room: string,
    readonly seq: number,
    options?: ErrorOptions,
  ) {
    super(`journal message ${room}#${seq} is missing: refusing to replay a partial tail`, options);
  }
}

/**
 * Reads a room's journal entries after a snapshot: from the room's last
 * message (`last`, the storage's `journalHead`) back along each message's
 * link to its predecessor, by exact sequence (no consumer to create and
 * delete). The storage reads a link a replica misses from the authoritative
 * copy; a link it cannot find at all fails the read (JournalGapError) rather
 * than stop short. (A stale *last* message is caught by the activation's
 * fenced append instead.) A link to a message purged after a newer snapshot
 * than the one read also fails the read; the retried activation reads that one.
 */
export async function readJournalTail(
  storage: RoomStorage,
  room: RoomRef,
  last: JournalMessage | null,
  afterSeq: number,
): Promise<JournalTail> {
  const batches: JournalEntry[][] = [];
  let msg = last;
  while (msg && msg.seq > afterSeq) {
    const batch = decodeBatch(msg.data);
    // Epoch markers only fence; they hold nothing to replay.
    batches.push(batch.e.filter((e): e is JournalEntry => e.k !== "epoch"));
    if (batch.p <= afterSeq) break;
    msg = await linked(storage, room, batch.p);
  }
  return { lastSeq: last?.seq ?? 0, entries: batches.reverse().flat() };
}

async function linked(storage: RoomStorage, room: RoomRef, seq: number): Promise<JournalMessage> {
  const msg = await storage.journalMessage(room, seq);
  if (!msg) throw new JournalGapError(`${room.type}.${room.id}`, seq);
  return msg;
}
