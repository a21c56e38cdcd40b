import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { decodeBatch, type JournalEntry } from "./journal";

export interface JournalTail {
  /** Stream sequence of the last message on the room's subject (0 if none). */
  lastSeq: number;
  /** Entries after `afterSeq`, in order. */
  entries: JournalEntry[];
}

/** The room's last journal message (an indexed lookup), or null for a new room. */
export function lastJournalMessage(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<StoredMsg | null> {
  return jsm.direct.getMessage(stream, { last_by_subj: subject }).catch(notFound);
}

/**
 * Reads a room's journal entries after a snapshot: from the subject's last
 * message back along each message's link to its predecessor, with direct gets
 * by exact sequence (no consumer to create and delete). Direct gets may be
 * served by a lagging replica; the activation's fenced append then fails and
 * the read is retried, so a stale tail is never acted on.
 */
export async function readJournalFrom(
  jsm: JetStreamManager,
  stream: string,
  last: StoredMsg | null,
  afterSeq: number,
): Promise<JournalTail> {
  const batches: JournalEntry[][] = [];
  let msg = last;
  while (msg && msg.seq > afterSeq) {
    const batch = decodeBatch(msg.data);
    // Epoch markers only fence; they hold nothing to replay.
    batches.push(batch.e.filter((e): e is JournalEntry => e.k !== "epoch"));
    if (batch.p <= afterSeq) break;
    msg = await jsm.direct.getMessage(stream, { seq: batch.p }).catch(notFound);
  }
  return { lastSeq: last?.seq ?? 0, entries: batches.reverse().flat() };
}

/** A subject with no message yet answers 404; anything else is a real failure. */
function notFound(err: unknown): null {
  if (/no message found|not found/i.test(String(err))) return null;
  throw err;
}
