import { randomBytes } from "node:crypto";
import type { KV } from "@nats-io/kv";
import type { JetStreamClient } from "@nats-io/jetstream";
import { FailStoppedError, OwnershipLostError, isWrongLastSequence } from "./errors";

/** True when a fenced write failed for good (ownership lost, fail-stop), not transiently. */
export function isFinalFenceError(err: unknown): boolean {
  return err instanceof OwnershipLostError || err instanceof FailStoppedError;
}

/** Answers whether this process may still write what it owns (its heartbeat deadline). */
export type LivenessGuard = () => boolean;

/**
 * A conditional writer: each write succeeds only at the revision (or stream
 * sequence) this writer last produced. The first failed condition latches:
 * ownership is lost, and every later write refuses without touching the server.
 */
abstract class Fence {
  #lost: Error | undefined;
  #onLost: ((err: Error) => void) | undefined;

  constructor(
    readonly target: string,
    protected position: number,
    private readonly alive: LivenessGuard,
  ) {}

  get lost(): boolean {
    return this.#lost !== undefined;
  }

  /** Revision or sequence of the last successful write. */
  get revision(): number {
    return this.position;
  }

  onLost(callback: (err: Error) => void): void {
    this.#onLost = callback;
  }

  /**
   * `ours`, when given, is asked before a failed condition counts as lost
   * ownership: it returns the position if the write that "failed" is in fact
   * our own earlier attempt, already stored.
   */
  protected async guarded(
    write: () => Promise<number>,
    ours?: () => Promise<number | undefined>,
  ): Promise<number> {
    if (this.#lost) throw this.#lost;
    if (!this.alive()) throw this.#latch(new FailStoppedError(this.target));
    try {
      this.position = await write();
      return this.position;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      const landed = await ours?.().catch(() => undefined);
      if (landed !== undefined) return (this.position = landed);
      throw this.#latch(new OwnershipLostError(this.target, { cause: err }));
    }
  }

  #latch(err: Error): Error {
    if (!this.#lost) {
      this.#lost = err;
      this.#onLost?.(err);
    }
    return err;
  }
}

/** Fenced writes to one KV key (a room snapshot). */
export class FencedKey extends Fence {
  /** The last write that failed without an answer (a timeout, an election): it may have landed. */
  #unanswered: Uint8Array | undefined;

  constructor(
    private readonly kv: KV,
    readonly key: string,
    expectedRevision: number,
    alive: LivenessGuard,
  ) {
    super(key, expectedRevision, alive);
  }

  write(value: Uint8Array): Promise<number> {
    return this.guarded(async () => {
      for (;;) {
        try {
          // put with previousSeq 0 means "must not exist": atomic, unlike create() over a tombstone.
          const revision = await this.kv.put(this.key, value, { previousSeq: this.position });
          this.#unanswered = undefined;
          return revision;
        } catch (err) {
          if (!isWrongLastSequence(err)) {
            this.#unanswered = value;
            throw err;
          }
          // The key moved on. If to our own unanswered write, write again after it.
          if (!(await this.#unansweredLanded())) throw err;
        }
      }
    });
  }

  /**
   * Whether the key's last revision is this writer's unanswered write (its
   * acknowledgement was lost, but it was stored): then the position moves
   * to it. Its bytes tell it apart from another writer's, whose value (a
   * snapshot under a later room epoch) differs. Read from the stream leader
   * (the bucket is opened without direct gets).
   */
  async #unansweredLanded(): Promise<boolean> {
    const unanswered = this.#unanswered;
    if (unanswered === undefined) return false;
    const entry = await this.kv.get(this.key);
    this.#unanswered = undefined;
    if (entry?.operation !== "PUT" || entry.revision <= this.position) return false;
    if (!sameBytes(entry.value, unanswered)) return false;
    this.position = entry.revision;
    return true;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** How long {@link FencedJournal.append} keeps retrying a transient failure. */
export interface AppendRetry {
  /** Give up after this long. */
  forMs: number;
  /** Stop retrying once this turns false (the writer was stopped). */
  active: () => boolean;
  /**
   * The subject's last message as the stream leader has it (its sequence and
   * `Nats-Msg-Id`), read when a retry fails its condition: an attempt that
   * timed out may have been stored, and after a leader change the stream's
   * duplicate window no longer recognises it (seen on nats-server 2.9).
   */
  last?: () => Promise<{ seq: number; msgID: string | undefined } | null>;
}

/**
 * Fenced appends to one subject of a stream (a room journal). A transient
 * failure (a stream leader election stalls appends for seconds on
 * nats-server 2.9; a timeout) is retried with the same message id, so an
 * append that did land is answered from the stream's duplicate window rather
 * than written twice; a failed condition is final.
 */
export class FencedJournal extends Fence {
  readonly #writer = randomBytes(6).toString("base64url");

  constructor(
    private readonly js: JetStreamClient,
    readonly subject: string,
    expectedLastSequence: number,
    alive: LivenessGuard,
  ) {
    super(subject, expectedLastSequence, alive);
  }

  async append(data: Uint8Array, retry?: AppendRetry): Promise<number> {
    // Unique per writer and position: another writer's append at the same
    // position (a zombie, a new owner) never counts as this one's duplicate.
    const msgID = `${this.#writer}:${this.position}`;
    const deadline = performance.now() + (retry?.forMs ?? 0);
    let retried = false;
    // Only a retry can meet its own earlier attempt.
    const ours = async () => {
      if (!retried || !retry?.last) return undefined;
      const last = await retry.last();
      return last && last.msgID === msgID ? last.seq : undefined;
    };
    for (let pause = 50; ; pause = Math.min(pause * 2, 500), retried = true) {
      try {
        return await this.guarded(async () => {
          const ack = await this.js.publish(this.subject, data, {
            msgID,
            expect: { lastSubjectSequence: this.position },
          });
          return ack.seq;
        }, ours);
      } catch (err) {
        const again = retry && retry.active() && performance.now() + pause < deadline;
        if (isFinalFenceError(err) || !again) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}
