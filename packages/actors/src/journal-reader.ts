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
 * A journal message the back links name could not be read: the tail would
 * miss acknowledged entries, so the activation fails instead of serving.
 */
export class JournalGapError extends Error {
  readonly code = "JOURNAL_GAP";
  override readonly name = "JournalGapError";
  constructor(
    readonly stream: string,
    readonly seq: number,
    options?: ErrorOptions,
  ) {
    super(
      `journal message ${stream}#${seq} is missing: refusing to replay a partial tail`,
      options,
    );
  }
}

/**
 * Reads a room's journal entries after a snapshot: from the subject's last
 * message back along each message's link to its predecessor, by exact
 * sequence (no consumer to create and delete). Direct gets may be served by
 * a lagging replica: a link it cannot find is read again from the stream
 * leader, and if that fails too the read fails (JournalGapError) rather than
 * stop short. (A stale *last* message is caught by the activation's fenced
 * append instead.) A link to a message purged after a newer snapshot than
 * the one read also fails the read; the retried activation reads that one.
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
    msg = await linked(jsm, stream, batch.p);
  }
  return { lastSeq: last?.seq ?? 0, entries: batches.reverse().flat() };
}

async function linked(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg> {
  const direct = await jsm.direct.getMessage(stream, { seq }).catch(notFound);
  if (direct) return direct;
  try {
    const leader = await jsm.streams.getMessage(stream, { seq });
    if (leader) return leader;
    throw new Error("no message");
  } catch (error) {
    throw new JournalGapError(stream, seq, { cause: error });
  }
}

/** A subject with no message yet answers 404; anything else is a real failure. */
function notFound(err: unknown): null {
  if (/no message found|not found/i.test(String(err))) return null;
  throw err;
}

/**
 * The subject's last message as the stream leader has it (not a direct get,
 * which a lagging replica may answer): its sequence and `Nats-Msg-Id`.
 */
export async function lastStored(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<{ seq: number; msgID: string | undefined } | null> {
  const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject }).catch(notFound);
  if (!msg) return null;
  return { seq: msg.seq, msgID: msg.header?.get("Nats-Msg-Id") || undefined };
}
