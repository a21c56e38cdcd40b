import type { Logger } from "pino";
import { ErrorCode } from "@rookery/protocol";
import {
  InternalKind,
  type ErrReply,
  type RoomJoinRequest,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import type { PendingCommit } from "./group-commit";
import type { BatchJob, HandlerBatch } from "./handler-batch";
import type { JournalEntry } from "./journal";
import { presenceMarks } from "./presence-mirror";
import { ackReply, err, expired, moved, outcomeReply, type Reply } from "./replies";
import { RoomClock } from "./room-clock";
import type { Applied, Checkpoint, CoreEvent, RoomCore } from "./room-core";

/** Applies an entry inside a turn; the batch can undo it if the budget cuts the turn short. */
export type Apply = (entry: JournalEntry) => Applied;

/**
 * One mailbox turn: runs inside the handler budget, decides and applies
 * (through `apply`) and returns what to do once the batch is over.
 */
export type Turn = (apply: Apply) => () => void;

/** What a mailbox needs of its room actor. */
export interface MailboxOwner {
  readonly key: string;
  readonly stopped: boolean;
  /** Why requests are refused now (the room is moving or stopped); undefined while it serves. */
  refusal(): string | undefined;
  /** Commits an applied entry (journal or not), then runs its `done`. */
  commit(pending: PendingCommit): void;
  /** Answers a resend of an input already processed, once its outcome is durable. */
  resend(reply: Reply, member: string, seq: number, answer: RoomReply): void;
  /** The join's answer as of now (it is being applied in this batch). */
  joinedReply(request: RoomJoinRequest, joinEvents: CoreEvent[]): RoomReply;
}

const noop = () => {};

/**
 * A room's mailbox: requests and the room's own entries (timers, ticks, a
 * lost gateway's leaves) become turns in the node's handler batch, applied
 * one at a time in arrival order; each applied entry goes to the owner's
 * commit, and its answer waits for that.
 */
export class RoomMailbox {
  // Created on first use: most rooms arm no timer (budget: 4 KB a room).
  #clock: RoomClock | undefined;
  /**
   * Events of entries applied in the running handler batch whose commit has
   * not run yet (oldest first): a join applied later in the same batch
   * answers with a view that counts them, so its replay must carry them.
   */
  readonly inBatch: CoreEvent[][] = [];

  constructor(
    private readonly core: RoomCore,
    private readonly owner: MailboxOwner,
    private readonly batch: HandlerBatch,
    private readonly log: Logger,
  ) {}

  /** A request from a gateway: one turn, answered through `reply`. */
  handle(request: RoomRequest, reply: Reply): void {
    const at = Date.now();
    const fail = (r: ErrReply) => reply(r);
    this.#enqueue((apply) => {
      // Checked when the turn comes, not on arrival: a turn queued before a
      // handover began, or behind the same input, must see what came before it.
      const refusal = this.owner.refusal();
      if (refusal !== undefined) {
        const r = moved(refusal);
        return () => fail(r);
      }
      switch (request.k) {
        case InternalKind.Join: {
          // The view is taken when the join is applied (mailbox order) and sent
          // once it is committed: entries applied after it, not yet committed
          // or published, are neither in it nor counted in its seq. Applies
          // replace the state object, so the view holds still until then.
          let view: RoomReply | undefined;
          return this.#applyThen(
            apply,
            { k: "join", member: request.member, at },
            () => reply(view!),
            fail,
            (applied) => (view = this.owner.joinedReply(request, applied.events)),
          );
        }
        case InternalKind.Leave: {
          const member = this.core.member(request.member);
          const left = () => reply({ k: InternalKind.Left });
          if (!member || member.conn !== request.conn) return left;
          const reason = request.reason ?? "left";
          return this.#applyThen(apply, { k: "leave", member: member.id, reason, at }, left, fail);
        }
        case InternalKind.Input: {
          const { member, seq, type, body } = request;
          const known = this.core.known(member, seq);
          if (known.kind === "seen") {
            const answer = outcomeReply(seq, known.outcome);
            return () => this.owner.resend(reply, member, seq, answer);
          }
          if (known.kind === "expired") return () => fail(expired(seq));
          const entry: JournalEntry = { k: "input", member, seq, type, body, at };
          const ack = (applied: Applied) => reply(ackReply(seq, applied));
          return this.#applyThen(apply, entry, ack, fail);
        }
        default: {
          // A new request kind fails to compile here until it is handled.
          const _exhaustive: never = request;
          return _exhaustive;
        }
      }
    }, fail);
  }

  /** An entry of the room's own, applied in mailbox order if `still()` holds when its turn comes. */
  submit(entry: JournalEntry, still: () => boolean = () => true): void {
    this.#enqueue(
      (apply) =>
        this.owner.stopped || !still() ? noop : this.#applyThen(apply, entry, noop, noop),
      noop,
    );
  }

  /** Leaves of every member that came through a gateway incarnation that is gone. */
  dropGateway(gateway: string, gatewayEpoch: string): void {
    const through = (id: string) => {
      const m = this.core.member(id);
      return m?.gateway === gateway && m.gatewayEpoch === gatewayEpoch;
    };
    for (const m of this.core.storedMembers()) {
      if (!through(m.id)) continue;
      const entry: JournalEntry = {
        k: "leave",
        member: m.id,
        reason: "gateway-lost",
        at: Date.now(),
      };
      // The member may have come back through another gateway before this turn.
      this.submit(entry, () => through(m.id));
    }
  }

  /** Rooms with armed timers or ticks keep running (a chess clock must not sleep). */
  get busy(): boolean {
    return this.#clock?.busy ?? false;
  }

  /** Arms the timers the room's state holds that are not armed yet. */
  armTimers(): void {
    const due = this.core.timers;
    if (Object.keys(due).length > 0) this.#roomClock().arm(due);
  }

  startTicks(tickMs: number): void {
    this.#roomClock().startTicks(tickMs);
  }

  /** Disarms timers and ticks. Idempotent. */
  stopClock(): void {
    this.#clock?.stop();
  }

  #roomClock(): RoomClock {
    this.#clock ??= new RoomClock(
      // Still armed at that time when its turn comes? (A handler may have cleared or moved it.)
      (name, dueAt) =>
        this.submit(
          { k: "timer", name, at: Math.max(dueAt, Date.now()) },
          () => this.core.timers[name] === dueAt,
        ),
      () => this.submit({ k: "tick", at: Date.now() }),
    );
    return this.#clock;
  }

  /**
   * Queues one turn in the node's handler batch; a turn that fails (a bug,
   * not a rejection) answers INPUT_REJECTED. A rollback (the budget cut the
   * batch short) restores the core and truncates exactly what the turn
   * added to `inBatch`.
   */
  #enqueue(turn: Turn, fail: (reply: ErrReply) => void): void {
    let checkpoint: Checkpoint | undefined;
    let mark: number | undefined;
    const apply: Apply = (entry) => {
      checkpoint = this.core.checkpoint(entry);
      // Taken before the push, so a rollback cut anywhere truncates exactly what was added.
      mark = this.inBatch.length;
      const applied = this.core.apply(entry);
      this.inBatch.push(applied.events);
      return applied;
    };
    const job: BatchJob = {
      after: undefined,
      run: () => {
        job.after = turn(apply);
      },
      rollback: () => {
        if (checkpoint) this.core.restore(checkpoint);
        if (mark !== undefined) this.inBatch.length = mark;
        checkpoint = undefined;
        mark = undefined;
      },
      failed: (error) => () => {
        this.log.error({ err: error, room: this.owner.key }, "mailbox turn failed");
        fail(err(ErrorCode.INPUT_REJECTED, "the room failed to handle this request"));
      },
    };
    this.batch.submit(job);
  }

  /** Applies `entry` now (inside the budget); the commit and `done` come after the batch. */
  #applyThen(
    apply: Apply,
    entry: JournalEntry,
    done: (a: Applied) => void,
    fail: (r: ErrReply) => void,
    onApplied?: (a: Applied) => void,
  ): () => void {
    const leaderBefore = this.core.leader;
    let applied: Applied;
    try {
      applied = apply(entry);
    } catch (error) {
      const rejection = this.#rejection(error, entry);
      if (entry.k !== "input" || rejection.code === ErrorCode.NOT_JOINED)
        return () => fail(rejection);
      // A refusal is an outcome too: remembered (and journaled) so that a
      // resend gets it again instead of running the input a second time.
      const { member, seq, at } = entry;
      const { code, message } = rejection;
      const refusal: JournalEntry = { k: "reject", member, seq, code, message, at };
      const refused = apply(refusal);
      const done = () => fail(rejection);
      return () => this.#commit({ entry: refusal, applied: refused, marks: undefined, done, fail });
    }
    onApplied?.(applied);
    const marks = presenceMarks(entry, leaderBefore, this.core.leader);
    return () => this.#commit({ entry, applied, marks, done, fail });
  }

  #commit(pending: PendingCommit): void {
    this.inBatch.shift();
    this.owner.commit(pending);
  }

  #rejection(error: unknown, entry: JournalEntry): ErrReply {
    const code = (error as { code?: string }).code;
    if (code === "NOT_JOINED") return err(ErrorCode.NOT_JOINED, (error as Error).message);
    if (code !== "INPUT_REJECTED") {
      this.log.warn(
        { err: String(error), room: this.owner.key, entry: entry.k },
        "room handler failed",
      );
    }
    return err(ErrorCode.INPUT_REJECTED, (error as Error).message);
  }
}
