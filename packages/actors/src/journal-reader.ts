import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { decodeBatch, type JournalEntry } from "./journal";

export interface JournalTail {
  /** Stream sequence of the last message on the room's subject (0 if none). */
  lastSeq: number;
  /** Entries after `afterSeq`, in order. */
  entries: JournalEntry[];
}

/** Reads a room's journal entries after a snapshot, up to the subject's current end. */
export async function readJournal(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
  subject: string,
  afterSeq: number,
): Promise<JournalTail> {
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch((err: unknown) => {
    if (/no message found/i.test(String(err))) return null;
    throw err;
  });
  const lastSeq = last?.seq ?? 0;
  if (lastSeq <= afterSeq) return { lastSeq, entries: [] };
  const consumer = await js.consumers.get(stream, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: afterSeq + 1,
  });
  const entries: JournalEntry[] = [];
  const messages = await consumer.consume();
  try {
    for await (const msg of messages) {
      entries.push(...decodeBatch(msg.data));
      if (msg.seq >= lastSeq) break;
    }
  } finally {
    await messages.close();
  }
  return { lastSeq, entries };
}
