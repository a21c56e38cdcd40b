import type { Logger } from "pino";
import type { ErrReply, RoomReply } from "@rookery/protocol/internal";
import { isFinalFenceError } from "@rookery/cluster/internal";
import { encodeBatch, type JournalEntry } from "./journal";
import { moved, type Reply } from "./replies";
import type { Applied, CoreEvent } from "./room-core";
import type { FencedAppender } from "./storage";

/** An applied entry waiting for its journal append, with what to do after. */
export interface PendingCommit {
  entry: JournalEntry;
  applied: Applied;
  /** Members whose presence record this entry changed. */
  marks: string[] | undefined;
  done: (applied: Applied) => void;
  fail: (reply: ErrReply) => void;
}

/** What the group commit needs of its room actor. */
export interface CommitOwner {
  readonly key: string;
  readonly stopped: boolean;
  /** The batch is durable: publish its events, mirror presence, answer. */
  committed(batch: PendingCommit[]): void;
  /** An append failed for good (or past the retry window): the room must stop. */
  failed(error: unknown): void;
  /** The journal has nothing more to append for now. */
  idle(): void;
}

export interface GroupCommitDeps {
  alive: () => boolean;
  /** A transient append failure is retried this long. */
  retryMs: number;
  log: Logger;
  onJournal?: ((ms: number, entries: number) => void) | undefined;
}

/** Below the 1 MB default max payload of nats-server, with room for headers. */
const MAX_BATCH_BYTES = 512 * 1024;

/**
 * Group commit of a durable room: entries applied while an append is in
 * flight share the next journal message. A resend of an input whose append
 * is still in flight waits for it: answering earlier would answer for an
 * input a crash could still lose.
 */
export class GroupCommit {
  #pending: PendingCommit[] = [];
  /** The batch whose journal append is in flight. */
  #committing: PendingCommit[] = [];
  /** Inputs (and refusals) not yet durable, by `member#seq`. */
  #uncommitted: Map<string, PendingCommit> | undefined;
  #flushing: Promise<void> | undefined;

  constructor(
    readonly journal: FencedAppender,
    private readonly owner: CommitOwner,
    private readonly deps: GroupCommitDeps,
  ) {}

  /** Entries waiting for their append: the mailbox depth. */
  get depth(): number {
    return this.#pending.length;
  }

  /** Settles once everything added so far is appended (or failed). */
  get flushed(): Promise<void> | undefined {
    return this.#flushing;
  }

  /** Events of entries applied but not yet published, oldest first. */
  unpublished(): CoreEvent[] {
    return [...this.#committing, ...this.#pending].flatMap((p) => p.applied.events);
  }

  add(commit: PendingCommit): void {
    const { entry } = commit;
    if (entry.k === "input" || entry.k === "reject")
      (this.#uncommitted ??= new Map()).set(`${entry.member}#${entry.seq}`, commit);
    this.#pending.push(commit);
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
  }

  /** Answers `reply` with `answer` once `member#seq` is durable; false when it already is. */
  whenDurable(member: string, seq: number, reply: Reply, answer: RoomReply): boolean {
    const commit = this.#uncommitted?.get(`${member}#${seq}`);
    if (!commit) return false;
    const { done, fail } = commit;
    commit.done = (applied) => {
      done(applied);
      reply(answer);
    };
    commit.fail = (failure) => {
      fail(failure);
      reply(failure);
    };
    return true;
  }

  /** Fails every entry not yet handed to an append (the room stopped). */
  abandon(reason: string): void {
    for (const p of this.#pending.splice(0)) this.#fail(p, reason);
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0 && !this.owner.stopped) {
      const [batch, data] = this.#nextBatch(this.journal.revision);
      this.#committing = batch;
      const started = performance.now();
      try {
        // A broker election stalls appends for seconds: retried, the room
        // rides it out (resends of its inputs wait for the outcome meanwhile).
        await this.journal.append(data, {
          forMs: this.deps.retryMs,
          active: () => !this.owner.stopped && this.deps.alive(),
        });
      } catch (error) {
        this.deps.log.error(
          { err: error, room: this.owner.key, final: isFinalFenceError(error) },
          "journal append failed: stopping room",
        );
        for (const p of batch) this.#fail(p, "journal append failed");
        this.#committing = [];
        return this.owner.failed(error);
      }
      this.deps.onJournal?.(performance.now() - started, batch.length);
      this.#committing = [];
      for (const p of batch) this.#forget(p);
      this.owner.committed(batch);
    }
    this.owner.idle();
  }

  /** The pending entries that fit one journal message (a refused append would stop the room). */
  #nextBatch(prev: number): [PendingCommit[], Uint8Array] {
    let count = this.#pending.length;
    for (;;) {
      const data = encodeBatch(
        prev,
        this.#pending.slice(0, count).map((p) => p.entry),
      );
      if (count === 1 || data.length <= MAX_BATCH_BYTES)
        return [this.#pending.splice(0, count), data];
      count = Math.ceil(count / 2);
    }
  }

  #fail(commit: PendingCommit, reason: string): void {
    this.#forget(commit);
    commit.fail(moved(reason));
  }

  #forget(commit: PendingCommit): void {
    const { entry } = commit;
    if (entry.k === "input" || entry.k === "reject")
      this.#uncommitted?.delete(`${entry.member}#${entry.seq}`);
  }
}
