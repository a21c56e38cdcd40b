import type { KV } from "@nats-io/kv";
import type { JetStreamClient } from "@nats-io/jetstream";
import { FailStoppedError, OwnershipLostError, isWrongLastSequence } from "./errors";

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

  protected async guarded(write: () => Promise<number>): Promise<number> {
    if (this.#lost) throw this.#lost;
    if (!this.alive()) throw this.#latch(new FailStoppedError(this.target));
    try {
      this.position = await write();
      return this.position;
    } catch (err) {
      if (isWrongLastSequence(err))
        throw this.#latch(new OwnershipLostError(this.target, { cause: err }));
      throw err;
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
  constructor(
    private readonly kv: KV,
    readonly key: string,
    expectedRevision: number,
    alive: LivenessGuard,
  ) {
    super(key, expectedRevision, alive);
  }

  write(value: Uint8Array): Promise<number> {
    // put with previousSeq 0 means "must not exist": atomic, unlike create() over a tombstone.
    return this.guarded(() => this.kv.put(this.key, value, { previousSeq: this.position }));
  }
}

/** Fenced appends to one subject of a stream (a room journal). */
export class FencedJournal extends Fence {
  constructor(
    private readonly js: JetStreamClient,
    readonly subject: string,
    expectedLastSequence: number,
    alive: LivenessGuard,
  ) {
    super(subject, expectedLastSequence, alive);
  }

  append(data: Uint8Array): Promise<number> {
    return this.guarded(async () => {
      const ack = await this.js.publish(this.subject, data, {
        expect: { lastSubjectSequence: this.position },
      });
      return ack.seq;
    });
  }
}
