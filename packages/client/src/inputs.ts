import type { Value } from "@rookery/protocol";
import { InputTimeoutError } from "./errors";
import type { Room } from "./room";

/** An input whose outcome the client does not know yet. */
export interface PendingInput {
  readonly seq: number;
  readonly room: Room;
  /** The encoded `input` frame: every (re-)send is these bytes, same seq. */
  readonly bytes: Uint8Array;
  /** First send: `inputTimeoutMs` counts from here. */
  firstSentAt: number | undefined;
  /** Sent on the current connection and unanswered since; undefined: to be sent. */
  sentAt: number | undefined;
  /** The last "outcome unknown" answer, the cause if the input times out. */
  lastError: Error | undefined;
  resolve: (result: Value | undefined) => void;
  reject: (error: Error) => void;
}

/**
 * The inputs awaiting an outcome, in seq order, and the one timer that
 * rejects those without an outcome `timeoutMs` after their first send.
 * Removing an input is what settles it, so each settles once.
 */
export class PendingInputs {
  readonly #bySeq = new Map<number, PendingInput>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly timeoutMs: number) {}

  get size(): number {
    return this.#bySeq.size;
  }

  add(input: PendingInput): void {
    this.#bySeq.set(input.seq, input);
  }

  get(seq: number): PendingInput | undefined {
    return this.#bySeq.get(seq);
  }

  /** Removes the input, which the caller then settles (undefined: settled already). */
  take(seq: number): PendingInput | undefined {
    const input = this.#bySeq.get(seq);
    this.#bySeq.delete(seq);
    this.#disarmIfEmpty();
    return input;
  }

  /** A room's inputs in seq order (seqs grow with insertion order). */
  ofRoom(room: Room): PendingInput[] {
    return [...this.#bySeq.values()].filter((input) => input.room === room);
  }

  /** The input went out on the current connection now. */
  sent(input: PendingInput, now = Date.now()): void {
    input.firstSentAt ??= now;
    input.sentAt = now;
    this.#arm();
  }

  /** The connection is gone: every input is to be sent again on the next one. */
  unsendAll(): void {
    for (const input of this.#bySeq.values()) input.sentAt = undefined;
  }

  /** When the longest-waiting input still in flight was sent, if any is. */
  oldestInFlight(): number | undefined {
    let oldest: number | undefined;
    for (const { sentAt } of this.#bySeq.values()) {
      if (sentAt !== undefined && (oldest === undefined || sentAt < oldest)) oldest = sentAt;
    }
    return oldest;
  }

  rejectRoom(room: Room, error: Error): void {
    const inputs = this.ofRoom(room);
    for (const input of inputs) this.#bySeq.delete(input.seq);
    this.#disarmIfEmpty();
    for (const input of inputs) input.reject(error);
  }

  rejectAll(error: Error): void {
    const inputs = [...this.#bySeq.values()];
    this.#bySeq.clear();
    this.#disarmIfEmpty();
    for (const input of inputs) input.reject(error);
  }

  #disarmIfEmpty(): void {
    if (this.#bySeq.size > 0) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    let first: number | undefined;
    for (const { firstSentAt } of this.#bySeq.values()) {
      if (firstSentAt !== undefined && (first === undefined || firstSentAt < first)) {
        first = firstSentAt;
      }
    }
    if (first === undefined) return;
    const delay = Math.max(0, first + this.timeoutMs - Date.now());
    this.#timer = setTimeout(() => this.#expire(), delay);
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const input of [...this.#bySeq.values()]) {
      if (input.firstSentAt === undefined || now - input.firstSentAt < this.timeoutMs) continue;
      this.#bySeq.delete(input.seq);
      const context = { room: input.room.ref };
      input.reject(new InputTimeoutError(input.seq, this.timeoutMs, input.lastError, context));
    }
    this.#arm();
  }
}
