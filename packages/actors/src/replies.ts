import { encodeFrame, ErrorCode } from "@rookery/protocol";
import {
  InternalKind,
  type ErrReply,
  type RoomAckedReply,
  type RoomReply,
} from "@rookery/protocol/internal";
import type { Outcome } from "./dedupe";
import type { Applied } from "./room-core";
import { answer, type Inbound } from "./transport";

/** Where a request's answer goes: a NATS reply subject, or a local gateway's promise. */
export type Reply = (reply: RoomReply) => void;

export function respond(msg: Inbound, reply: RoomReply): void {
  answer(msg, encodeFrame(reply));
}

export function err(code: ErrorCode, message: string): ErrReply {
  return { k: InternalKind.Err, code, message };
}

/** Retried at once by the sender: the room is stopping or handing over. */
export function moved(reason: string): ErrReply {
  return err(ErrorCode.ROOM_MOVED, `room is moving (${reason}): retry`);
}

export function expired(seq: number): ErrReply {
  return err(
    ErrorCode.SEQ_EXPIRED,
    `input seq ${seq} is older than this member's dedupe window: its outcome is no longer known`,
  );
}

export function ackReply(seq: number, applied: Pick<Applied, "result">): RoomAckedReply {
  return applied.result === undefined
    ? { k: InternalKind.Acked, seq }
    : { k: InternalKind.Acked, seq, result: applied.result };
}

/** A resend's answer: the original outcome, marked as a repeat when it was an ack. */
export function outcomeReply(seq: number, outcome: Outcome): RoomReply {
  return outcome.ok
    ? { ...ackReply(seq, outcome), dup: true }
    : err(outcome.code as ErrorCode, outcome.message);
}

/** A journaled entry failed when replayed: the room would differ from what was acknowledged. */
export class JournalReplayError extends Error {
  readonly code = "JOURNAL_REPLAY_FAILED";
  override readonly name = "JournalReplayError";
  constructor(
    readonly room: string,
    readonly entry: string,
    readonly journalSeq: number,
    options?: ErrorOptions,
  ) {
    super(
      `room ${room}: journaled ${entry} entry failed on replay (journal at ${journalSeq})`,
      options,
    );
  }
}
