import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { ErrorCode, type Names, type Value } from "@rookery/protocol";
import {
  decodeRoomRequest,
  InternalKind,
  type ErrReply,
  type RoomJoinRequest,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import type { ClusterBuckets, Lease } from "@rookery/cluster";
import { leaseKey } from "@rookery/cluster/internal";
import {
  encodeBatch,
  encodeSnapshot,
  type EpochMarker,
  type JournalEntry,
  type Snapshot,
} from "./journal";
import { load, prefetch, type Prefetched } from "./activation";
import { lastStored } from "./journal-reader";
import { EventLog, type LocalGateway } from "./event-log";
import { GroupCommit, type CommitOwner, type PendingCommit } from "./group-commit";
import { submitTurn, type Apply } from "./mailbox";
import { ackReply, err, expired, moved, outcomeReply, respond, type Reply } from "./replies";
import { PresenceMirror, presenceMarks, presenceRecord } from "./presence-mirror";
import type { ResolvedRuntimeOptions } from "./options";
import { isDurable, type RoomDefinition } from "./room";
import type { HandlerBatch } from "./handler-batch";
import { joinedReply, visibleState } from "./join-view";
import { RoomClock } from "./room-clock";
import { RoomSnapshots } from "./room-snapshots";
import type { Applied, CoreEvent, RoomCore } from "./room-core";

export interface ActorDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  buckets: ClusterBuckets;
  /** Subject names of the namespace (`names(prefix)` from the protocol). */
  names: Names;
  nodeId: string;
  /** The node's heartbeat liveness: no write or emit once it is false. */
  alive: () => boolean;
  /** Whether a member's gateway incarnation still lives (ghosts are dropped at activation). */
  gatewayLive: (id: string, epoch: string) => boolean;
  options: ResolvedRuntimeOptions;
  /** Whether journal messages covered by a snapshot may be purged (`journalPurge`). */
  purgeJournal: boolean;
  /** Runs every room's handlers of one event-loop turn under one time budget. */
  batch: HandlerBatch;
  log: Logger;
  /** The gateway role of this process, when it has one (the co-located shape). */
  local?: LocalGateway;
  /** Called once when the actor stops for any reason. */
  onStopped: (actor: RoomActor, reason: string) => void;
  /** Called after each journal append with its latency and how many entries it carried. */
  onJournal?: (ms: number, entries: number) => void;
}

export type { LocalGateway } from "./event-log";
export { JournalReplayError } from "./replies";

export type { Prefetched } from "./activation";

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;

/**
 * One activation of a room on this node: the single writer of its state. It
 * applies requests one at a time in arrival order (the core is synchronous,
 * so the NATS callback order is the mailbox order), journals them with group
 * commit, and only then replies and publishes the events. Every write is
 * fenced; a failed fence stops the actor at once, emitting nothing more.
 */
export class RoomActor implements CommitOwner {
  readonly key: string;
  #core!: RoomCore;
  #snapshots!: RoomSnapshots;
  #sub: Subscription | undefined;
  /** Durable rooms only. */
  #commits: GroupCommit | undefined;
  // Created on first use: most rooms are idle, and each one costs memory (budget: 4 KB a room).
  #events: EventLog | undefined;
  #presence: PresenceMirror | undefined;
  #clock: RoomClock | undefined;
  #stopped: string | undefined;
  /** Set while handing over: requests get ROOM_MOVED (retried at once) instead of silence. */
  #moving: string | undefined;
  #lastActivity = performance.now();
  /**
   * Events of entries applied in the running handler batch whose commit has
   * not run yet (oldest first): a join applied later in the same batch
   * answers with a view that counts them, so its replay must carry them.
   */
  #inBatch: CoreEvent[][] = [];

  constructor(
    readonly definition: AnyRoom,
    readonly room: { type: string; id: string },
    readonly lease: Lease,
    private readonly deps: ActorDeps,
  ) {
    this.key = leaseKey(room.type, room.id);
  }

  get durable(): boolean {
    return isDurable(this.definition);
  }
  get stopped(): boolean {
    return this.#stopped !== undefined;
  }
  get idleMs(): number {
    return performance.now() - this.#lastActivity;
  }
  /** Rooms with armed timers or ticks keep running (a chess clock must not sleep). */
  get busy(): boolean {
    return (this.#clock?.busy ?? false) || this.pendingCount > 0;
  }
  /** Requests applied and waiting for their journal append: the mailbox depth. */
  get pendingCount(): number {
    return this.#commits?.depth ?? 0;
  }
  /** The room as of now, for a journal whose last sequence is `journalSeq` (RoomSnapshots). */
  snapshot(journalSeq: number): Snapshot {
    return this.#core.snapshot(this.lease.roomEpoch, journalSeq);
  }
  /** The journal's last sequence, 0 for an ephemeral room (RoomSnapshots). */
  journalSeq(): number {
    return this.#commits?.journal.revision ?? 0;
  }
  get memberCount(): number {
    return this.#core.storedMembers().length;
  }

  /**
   * Loads snapshot and journal, fences the previous owner, and starts serving.
   * The two fencing writes run in parallel: after a node dies, hundreds of
   * rooms activate at once and round trips add up. Resolves with where the
   * time went (ms per step), for logs.
   */
  async activate(prefetched?: Promise<Prefetched>): Promise<Record<string, number>> {
    const t0 = performance.now();
    const read = await (prefetched ?? prefetch(this.deps, this.room, this.durable));
    const t1 = performance.now();
    const loaded = await load(this.deps, this.definition, this.room, this.durable, read);
    this.#core = loaded.core;
    this.#snapshots = new RoomSnapshots(this, loaded.snapshotFence, this.deps);
    if (loaded.replayed.length > 0) this.#eventLog().remember(loaded.replayed);
    if (loaded.moved.length > 0) this.#mirror().mark(loaded.moved);
    const fences: Promise<number>[] = [];
    if (loaded.journal) {
      const { options, alive, log, onJournal, jsm, buckets } = this.deps;
      const retryMs = options.journalRetryMs;
      const { journalStream } = buckets.names;
      const subject = loaded.journal.subject;
      const last = () => lastStored(jsm, journalStream, subject);
      const deps = { alive, retryMs, log, onJournal, last };
      this.#commits = new GroupCommit(loaded.journal, this, deps);
      const marker: EpochMarker = {
        k: "epoch",
        epoch: this.lease.roomEpoch,
        node: this.deps.nodeId,
        at: Date.now(),
      };
      // The marker fences the previous owner's appends; replaying it is a no-op.
      fences.push(loaded.journal.append(encodeBatch(loaded.journalSeq, [marker])));
    }
    const t2 = performance.now();
    // Writing the snapshot at the revision we read fences a zombie's snapshot writes.
    const state = encodeSnapshot(this.snapshot(loaded.journalSeq));
    fences.push(loaded.snapshotFence.write(state));
    await Promise.all(fences);
    this.#subscribe();
    this.#armTimers();
    this.#startTicks();
    this.#dropGhosts();
    const now = performance.now();
    return { read: t1 - t0, journal: t2 - t1, fence: now - t2, total: now - t0 };
  }

  /** The reads an activation starts with; see `prefetch` in activation.ts. */
  static prefetch(
    deps: ActorDeps,
    room: { type: string; id: string },
    durable: boolean,
  ): Promise<Prefetched> {
    return prefetch(deps, room, durable);
  }

  /** Clean handoff (passivation, drain): no new requests, commit what is pending, release. */
  async passivate(release: (lease: Lease) => Promise<void>, reason: string): Promise<void> {
    if (this.#stopped) return;
    this.#moving = reason;
    this.#clearTimers();
    await this.#commits?.flushed;
    if (this.#stopped) return;
    // On drain, a durable room hands over at once: its journal already holds
    // everything, and the next owner replays the few entries since the last
    // snapshot. Ephemeral rooms (and idle passivation) snapshot first.
    if (!(this.durable && reason === "drain")) await this.#snapshots.write();
    // The last leaves' presence writes go out before the room stops writing:
    // a room that passivates empty may not be activated again for a long time.
    await this.#presence?.idle();
    await this.#snapshots.purging;
    this.#halt(reason);
    await release(this.lease);
    // Draining (not just unsubscribing) keeps answering requests that were
    // already on their way: they get ROOM_MOVED and are retried at once,
    // where an unsubscribe would drop them and leave the sender to time out.
    const sub = this.#sub;
    this.#sub = undefined;
    await sub?.drain().catch(() => sub.unsubscribe());
  }

  /** Immediate stop (fenced out, fail-stop): no write, no event, no reply from here on. */
  stop(reason: string): void {
    this.#moving = undefined;
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#clearTimers();
    this.#commits?.abandon(reason);
    this.#halt(reason);
  }

  /** Removes every member that came through a gateway incarnation that is gone. */
  dropGateway(gateway: string, gatewayEpoch: string): void {
    // A room handing over leaves its ghosts to the next owner, which drops them at activation.
    if (this.#moving !== undefined) return;
    for (const m of this.#core.storedMembers()) {
      if (m.gateway === gateway && m.gatewayEpoch === gatewayEpoch) {
        const entry: JournalEntry = {
          k: "leave",
          member: m.id,
          reason: "gateway-lost",
          at: Date.now(),
        };
        // The member may have come back through another gateway before this turn.
        const still = () => {
          const now = this.#core.member(m.id);
          return now?.gateway === gateway && now.gatewayEpoch === gatewayEpoch;
        };
        this.#submit(entry, still);
      }
    }
  }

  #subscribe(): void {
    const subject = this.deps.names.subjects.roomIn(this.room.type, this.room.id);
    this.#sub = this.deps.nc.subscribe(subject, { callback: (_err, msg) => this.#onRequest(msg) });
  }

  #onRequest(msg: Msg): void {
    const reply: Reply = (r) => respond(msg, r);
    if (this.#moving !== undefined) return reply(moved(this.#moving));
    if (this.#stopped) return;
    const decoded = decodeRoomRequest(msg.data);
    if (!decoded.ok) return reply(err(decoded.error.code, decoded.error.message));
    this.#handle(decoded.frame, reply);
  }

  /**
   * A request from a gateway in this process (the local fast path): the same
   * mailbox turn as one that came over NATS, with no encoding either way.
   * Always settles: a room stopping or moving answers ROOM_MOVED, and the
   * gateway re-routes over NATS.
   */
  request(frame: RoomRequest): Promise<RoomReply> {
    return new Promise((resolve) => {
      if (this.#moving !== undefined) return resolve(moved(this.#moving));
      if (this.#stopped) return resolve(moved(this.#stopped));
      this.#handle(frame, resolve);
    });
  }

  /** Whether a request handed to this actor now would be served here. */
  get serving(): boolean {
    return this.#moving === undefined && this.#stopped === undefined && this.#sub !== undefined;
  }

  #handle(request: RoomRequest, reply: Reply): void {
    this.#lastActivity = performance.now();
    const at = Date.now();
    const fail = (r: ErrReply) => reply(r);
    this.#enqueue((apply) => {
      // Checked when the turn comes, not on arrival: a turn queued before a
      // handover began, or behind the same input, must see what came before it.
      if (this.#moving !== undefined) {
        const r = moved(this.#moving);
        return () => fail(r);
      }
      if (this.#stopped) {
        const r = moved(this.#stopped);
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
            (applied) => (view = this.#joinedReply(request, applied.events)),
          );
        }
        case InternalKind.Leave: {
          const member = this.#core.member(request.member);
          const left = () => reply({ k: InternalKind.Left });
          if (!member || member.conn !== request.conn) return left;
          const reason = request.reason ?? "left";
          return this.#applyThen(apply, { k: "leave", member: member.id, reason, at }, left, fail);
        }
        case InternalKind.Input: {
          const { member, seq, type, body } = request;
          const known = this.#core.known(member, seq);
          if (known.kind === "seen") {
            const answer = outcomeReply(seq, known.outcome);
            return () => this.#resend(reply, member, seq, answer);
          }
          if (known.kind === "expired") return () => fail(expired(seq));
          const entry: JournalEntry = { k: "input", member, seq, type, body, at };
          const ack = (applied: Applied) => reply(ackReply(seq, applied));
          return this.#applyThen(apply, entry, ack, fail);
        }
      }
    }, fail);
  }

  /** Queues one mailbox turn; a turn that fails (a bug, not a rejection) answers INPUT_REJECTED. */
  #enqueue(turn: (apply: Apply) => () => void, fail: (reply: ErrReply) => void): void {
    submitTurn(this.deps.batch, this.#core, this.#inBatch, turn, (error) => {
      this.deps.log.error({ err: error, room: this.key }, "mailbox turn failed");
      fail(err(ErrorCode.INPUT_REJECTED, "the room failed to handle this request"));
    });
  }

  /** An entry of the room's own (timer, tick, a lost gateway's leave), applied in mailbox order. */
  #submit(entry: JournalEntry, still: () => boolean = () => true): void {
    this.#enqueue(
      (apply) => (this.#stopped || !still() ? noop : this.#applyThen(apply, entry, noop, noop)),
      noop,
    );
  }

  /** Applies `entry` now (inside the budget); the commit and `done` come after the batch. */
  #applyThen(
    apply: Apply,
    entry: JournalEntry,
    done: (a: Applied) => void,
    fail: (r: ErrReply) => void,
    onApplied?: (a: Applied) => void,
  ): () => void {
    const leaderBefore = this.#core.leader;
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
      return () =>
        this.#commit({
          entry: refusal,
          applied: refused,
          marks: undefined,
          done: () => fail(rejection),
          fail,
        });
    }
    onApplied?.(applied);
    const marks = presenceMarks(entry, leaderBefore, this.#core.leader);
    return () => this.#commit({ entry, applied, marks, done, fail });
  }

  /** Commits an applied entry (journal or not), then runs its `done`. */
  #commit(commit: PendingCommit): void {
    const { applied, marks, done } = commit;
    this.#inBatch.shift();
    this.#snapshots.dirty = true;
    this.#armTimers();
    if (this.#commits) return this.#commits.add(commit);
    // Past the node's fail-stop deadline nothing is acknowledged: the room
    // is another node's now (a durable room learns it from its fenced append).
    if (!this.deps.alive()) return commit.fail(moved("node is not live"));
    this.#publish(applied.events);
    if (marks) this.#mirror().mark(marks);
    done(applied);
  }

  /**
   * A resent input already processed: it gets its original outcome, once
   * that outcome is durable.
   */
  #resend(reply: Reply, member: string, seq: number, answer: RoomReply): void {
    if (!this.#commits?.whenDurable(member, seq, reply, answer)) reply(answer);
  }

  // ---- CommitOwner (GroupCommit) ----

  committed(batch: PendingCommit[]): void {
    for (const p of batch) {
      this.#publish(p.applied.events);
      if (p.marks && !this.#stopped) this.#mirror().mark(p.marks);
      p.done(p.applied);
    }
    this.#snapshots.journaled(batch.length);
  }

  failed(error: unknown): void {
    this.stop(`journal: ${(error as Error).name}`);
  }

  idle(): void {
    this.#snapshots.quiet();
  }

  #publish(events: CoreEvent[]): void {
    if (this.#stopped || !this.deps.alive()) return;
    this.#eventLog().publish(events);
  }

  #eventLog(): EventLog {
    this.#events ??= new EventLog(
      this.room,
      this.lease.roomEpoch,
      this.deps.names.subjects.roomEvents(this.room.type, this.room.id),
      { nc: this.deps.nc, local: this.deps.local, replayBuffer: this.deps.options.replayBuffer },
      () => this.#core.storedMembers(),
    );
    return this.#events;
  }

  /** The join's answer as of now (it is being applied in this batch). */
  #joinedReply(request: RoomJoinRequest, joinEvents: CoreEvent[]): RoomReply {
    const buffered: CoreEvent[] = [
      ...(this.#events?.buffered ?? []),
      ...(this.#commits?.unpublished() ?? []),
      // The join's own events too: it was applied in this batch.
      ...this.#inBatch.flat(),
    ];
    return joinedReply(request, {
      core: this.#core,
      epoch: this.lease.roomEpoch,
      buffered,
      joinEvents,
      stateFor: (id) =>
        visibleState(this.definition, this.#core, id, this.deps.options.handlerBudgetMs, (e) =>
          this.deps.log.warn(
            { err: String(e), room: this.key },
            "visibleState failed: state withheld",
          ),
        ),
    });
  }

  #mirror(): PresenceMirror {
    this.#presence ??= new PresenceMirror(
      this.deps.buckets.presence,
      this.room,
      (id) => presenceRecord(this.#core, id),
      () => !this.#stopped && this.deps.alive(),
      this.deps.log,
    );
    return this.#presence;
  }

  #rejection(error: unknown, entry: JournalEntry): ErrReply {
    const code = (error as { code?: string }).code;
    if (code === "NOT_JOINED") return err(ErrorCode.NOT_JOINED, (error as Error).message);
    if (code !== "INPUT_REJECTED") {
      this.deps.log.warn(
        { err: String(error), room: this.key, entry: entry.k },
        "room handler failed",
      );
    }
    return err(ErrorCode.INPUT_REJECTED, (error as Error).message);
  }

  #armTimers(): void {
    const due = this.#core.timers;
    if (Object.keys(due).length > 0) this.#roomClock().arm(due);
  }

  #startTicks(): void {
    const tickMs = this.definition.tickMs;
    if (tickMs && this.definition.onTick) this.#roomClock().startTicks(tickMs);
  }

  #roomClock(): RoomClock {
    this.#clock ??= new RoomClock(
      // Still armed at that time when its turn comes? (A handler may have cleared or moved it.)
      (name, dueAt) =>
        this.#submit(
          { k: "timer", name, at: Math.max(dueAt, Date.now()) },
          () => this.#core.timers[name] === dueAt,
        ),
      () => this.#submit({ k: "tick", at: Date.now() }),
    );
    return this.#clock;
  }

  #dropGhosts(): void {
    for (const m of this.#core.storedMembers()) {
      if (!this.deps.gatewayLive(m.gateway, m.gatewayEpoch))
        this.dropGateway(m.gateway, m.gatewayEpoch);
    }
    // An ephemeral room restored from an older snapshot may have lost
    // changes that were mirrored: list its entries and fix them. (A durable
    // room knows what changed from its journal tail; listing every room's
    // keys would cost a consumer per room when a node re-homes hundreds.)
    if (this.durable) return;
    const members = this.#core.storedMembers().map((m) => m.id);
    if (members.length > 0) this.#mirror().reconcile(members);
    this.#snapshots.startPeriodic();
  }

  #clearTimers(): void {
    this.#clock?.stop();
    this.#snapshots?.stop();
  }

  #halt(reason: string): void {
    if (this.#stopped) return;
    this.#stopped = reason;
    this.#presence?.stop();
    this.#clearTimers();
    this.deps.onStopped(this, reason);
  }
}

const noop = () => {};
