import type { JetStreamManager } from "@nats-io/jetstream";
import { decodeBatch, type JournalEntry } from "./journal";

export interface JournalTail {
  /** Stream sequence of the last message on the room's subject (0 if none). */
  lastSeq: number;
  /** Entries after `afterSeq`, in order. */
  entries: JournalEntry[];
}

/**
 * Reads a room's journal entries after a snapshot, up to the subject's
 * current end: the last message by subject, then back along each message's
 * link to its predecessor, with direct gets by exact sequence (no consumer to
 * create and delete). Direct gets may be served by a lagging replica; the
 * activation's fenced append then fails and the read is retried, so a stale
 * tail is never acted on.
 */
export async function readJournal(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  afterSeq: number,
): Promise<JournalTail> {
  const last = await jsm.direct.getMessage(stream, { last_by_subj: subject }).catch(notFound);
  const lastSeq = last?.seq ?? 0;
  const batches: JournalEntry[][] = [];
  let msg = last;
  while (msg && msg.seq > afterSeq) {
    const batch = decodeBatch(msg.data);
    batches.push(batch.e);
    if (batch.p <= afterSeq) break;
    msg = await jsm.direct.getMessage(stream, { seq: batch.p }).catch(notFound);
  }
  return { lastSeq, entries: batches.reverse().flat() };
}

/** A subject with no message yet answers 404; anything else is a real failure. */
function notFound(err: unknown): null {
  if (/no message found|not found/i.test(String(err))) return null;
  throw err;
}
