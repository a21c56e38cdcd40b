import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import {
  decodeRoomRequest,
  encodeFrame,
  ErrorCode,
  InternalKind,
  ServerKind,
  type ErrReply,
  type Names,
  type RoomAckedReply,
  type RoomEvent,
  type RoomJoinRequest,
  type RoomRef,
  type RoomReply,
  type RoomRequest,
  type Value,
} from "@rookery/protocol";
import {
  FencedJournal,
  FencedKey,
  isFinalFenceError,
  leaseKey,
  type ClusterBuckets,
  type Lease,
  type PresenceRecord,
} from "@rookery/cluster";
import {
  decodeSnapshot,
  encodeBatch,
  encodeSnapshot,
  type EpochMarker,
  type JournalEntry,
  type Snapshot,
} from "./journal";
import { lastJournalMessage, readJournalFrom } from "./journal-reader";
import { PresenceMirror } from "./presence-mirror";
import type { ResolvedRuntimeOptions } from "./options";
import { isDurable, type RoomDefinition } from "./room";
import type { BatchJob, HandlerBatch } from "./handler-batch";
import { joinedReply, visibleState } from "./join-view";
import { RoomClock } from "./room-clock";
import { RoomSnapshots } from "./room-snapshots";
import { RoomCore, type Applied, type Checkpoint, type CoreEvent } from "./room-core";
import type { Outcome } from "./dedupe";

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

/** A gateway role in this process: room events reach its members without NATS. */
export interface LocalGateway {
  /** The gateway's id: events for members joined through it need no NATS publish. */
  readonly id: string;
  /** Hands one event to the gateway's members of the room, synchronously and in order. */
  deliver(room: RoomRef, event: RoomEvent): void;
}

/** What an activation reads first; see {@link RoomActor.prefetch}. */
export interface Prefetched {
  entry: KvEntry | null;
  last: StoredMsg | null;
}

interface PendingCommit {
  entry: JournalEntry;
  applied: Applied;
  /** Members whose presence record this entry changed. */
  marks: string[] | undefined;
  done: (applied: Applied) => void;
  fail: (reply: ErrReply) => void;
}

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;

/**
 * One activation of a room on this node: the single writer of its state. It
 * applies requests one at a time in arrival order (the core is synchronous,
 * so the NATS callback order is the mailbox order), journals them with group
 * commit, and only then replies and publishes the events. Every write is
 * fenced; a failed fence stops the actor at once, emitting nothing more.
 */
export class RoomActor {
  readonly key: string;
  readonly #eventSubject: string;
  #core!: RoomCore;
  #journal: FencedJournal | undefined;
  #snapshots!: RoomSnapshots;
  #sub: Subscription | undefined;
  #pending: PendingCommit[] = [];
  /** The batch whose journal append is in flight. */
  #committing: PendingCommit[] = [];
  /** Applied inputs whose journal append has not completed, by `member#seq`. */
  #uncommitted: Map<string, PendingCommit> | undefined;
  #flushing: Promise<void> | undefined;
  #presence: PresenceMirror | undefined;
  // Created on first use: most rooms are idle, and each one costs memory (budget: 4 KB a room).
  #replay: CoreEvent[] | undefined;
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
    this.#eventSubject = deps.names.subjects.roomEvents(room.type, room.id);
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
    return (this.#clock?.busy ?? false) || this.#pending.length > 0;
  }
  /** Requests applied and waiting for their journal append: the mailbox depth. */
  get pendingCount(): number {
    return this.#pending.length;
  }
  /** The room as of now, for a journal whose last sequence is `journalSeq` (RoomSnapshots). */
  snapshot(journalSeq: number): Snapshot {
    return this.#core.snapshot(this.lease.roomEpoch, journalSeq);
  }
  /** The journal's last sequence, 0 for an ephemeral room (RoomSnapshots). */
  journalSeq(): number {
    return this.#journal?.revision ?? 0;
  }
  get memberCount(): number {
    return this.#core.storedMembers().length;
  }

  /**
   * Loads snapshot and journal, fences the previous owner, and starts serving.
   * Independent reads and the two fencing writes each run in parallel: after
   * a node dies, hundreds of rooms activate at once and round trips add up.
   * Resolves with where the time went (ms per step), for logs.
   */
  async activate(prefetched?: Promise<Prefetched>): Promise<Record<string, number>> {
    const { buckets, js, jsm } = this.deps;
    const subject = buckets.names.journalSubject(this.room.type, this.room.id);
    const stream = buckets.names.journalStream;
    const t0 = performance.now();
    const { entry, last } = await (prefetched ??
      RoomActor.prefetch(this.deps, this.room, this.durable));
    const snapshot = entry?.operation === "PUT" ? decodeSnapshot(entry.value) : null;
    const revision = entry?.revision ?? 0;
    const snapshotFence = new FencedKey(buckets.state, this.key, revision, this.deps.alive);
    this.#snapshots = new RoomSnapshots(this, snapshotFence, this.deps);
    const budget = this.deps.options.handlerBudgetMs;
    this.#core = new RoomCore(
      this.definition,
      this.room,
      snapshot,
      budget,
      this.deps.options.dedupeWindow,
    );
    let journalSeq = snapshot?.journalSeq ?? 0;
    const t1 = performance.now();
    const fences: Promise<number>[] = [];
    if (this.durable) {
      const tail = await readJournalFrom(jsm, stream, last, journalSeq);
      for (const e of tail.entries) this.#replayEntry(e, tail.lastSeq);
      // The previous owner may have died before mirroring these: write them again.
      const moved = tail.entries.flatMap((e) =>
        e.k === "join" ? [e.member.id] : e.k === "leave" ? [e.member] : [],
      );
      if (moved.length > 0) this.#mirror().mark(moved);
      journalSeq = tail.lastSeq;
      this.#journal = new FencedJournal(js, subject, tail.lastSeq, this.deps.alive);
      const marker: EpochMarker = {
        k: "epoch",
        epoch: this.lease.roomEpoch,
        node: this.deps.nodeId,
        at: Date.now(),
      };
      // The marker fences the previous owner's appends; replaying it is a no-op.
      fences.push(this.#journal.append(encodeBatch(tail.lastSeq, [marker])));
    }
    const t2 = performance.now();
    // Writing the snapshot at the revision we read fences a zombie's snapshot writes.
    const state = encodeSnapshot(this.snapshot(journalSeq));
    fences.push(snapshotFence.write(state));
    await Promise.all(fences);
    this.#subscribe();
    this.#armTimers();
    this.#startTicks();
    this.#dropGhosts();
    const now = performance.now();
    return { read: t1 - t0, journal: t2 - t1, fence: now - t2, total: now - t0 };
  }

  /**
   * The reads an activation starts with (snapshot, journal head). The host
   * runs them beside the lease CAS: reading before owning is safe, because
   * the activation's fencing writes are conditional on exactly what was
   * read, so a stale read fails them (and the activation reads again).
   */
  static async prefetch(
    deps: ActorDeps,
    room: { type: string; id: string },
    durable: boolean,
  ): Promise<Prefetched> {
    const { buckets, jsm } = deps;
    const subject = buckets.names.journalSubject(room.type, room.id);
    const [entry, last] = await Promise.all([
      buckets.state.get(leaseKey(room.type, room.id)),
      durable ? lastJournalMessage(jsm, buckets.names.journalStream, subject) : null,
    ]);
    return { entry, last };
  }

  /** Clean handoff (passivation, drain): no new requests, commit what is pending, release. */
  async passivate(release: (lease: Lease) => Promise<void>, reason: string): Promise<void> {
    if (this.#stopped) return;
    this.#moving = reason;
    this.#clearTimers();
    await this.#flushing;
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
    for (const p of this.#pending.splice(0)) {
      this.#forget(p);
      p.fail(moved(reason));
    }
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
            () => (view = this.#joinedReply(request)),
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
          if (known.kind === "seen") return () => this.#resend(reply, member, seq, known.outcome);
          if (known.kind === "expired") return () => fail(expired(seq));
          const entry: JournalEntry = { k: "input", member, seq, type, body, at };
          const ack = (applied: Applied) => reply(ackReply(seq, applied));
          return this.#applyThen(apply, entry, ack, fail);
        }
      }
    }, fail);
  }

  /**
   * Queues one mailbox turn in the node's handler batch. `turn` runs inside
   * the handler budget: it decides and applies (through `apply`, which lets
   * the batch undo an apply the budget cut short) and returns what to do after.
   */
  #enqueue(
    turn: (apply: (entry: JournalEntry) => Applied) => () => void,
    fail: (reply: ErrReply) => void,
  ): void {
    let checkpoint: Checkpoint | undefined;
    let mark: number | undefined;
    const apply = (entry: JournalEntry): Applied => {
      checkpoint = this.#core.checkpoint(entry);
      // Taken before the push, so a rollback cut anywhere truncates exactly what was added.
      mark = this.#inBatch.length;
      const applied = this.#core.apply(entry);
      this.#inBatch.push(applied.events);
      return applied;
    };
    const job: BatchJob = {
      after: undefined,
      run: () => {
        job.after = turn(apply);
      },
      rollback: () => {
        if (checkpoint) this.#core.restore(checkpoint);
        if (mark !== undefined) this.#inBatch.length = mark;
        checkpoint = undefined;
        mark = undefined;
      },
      failed: (error) => () => {
        this.deps.log.error({ err: String(error), room: this.key }, "mailbox turn failed");
        fail(err(ErrorCode.INPUT_REJECTED, "the room failed to handle this request"));
      },
    };
    this.deps.batch.submit(job);
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
    apply: (entry: JournalEntry) => Applied,
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
    const marks = this.#presenceMarks(entry, leaderBefore);
    return () => this.#commit({ entry, applied, marks, done, fail });
  }

  /** Commits an applied entry (journal or not), then runs its `done`. */
  #commit(commit: PendingCommit): void {
    const { entry, applied, marks, done } = commit;
    this.#inBatch.shift();
    this.#snapshots.dirty = true;
    this.#armTimers();
    if (!this.durable) {
      // Past the node's fail-stop deadline nothing is acknowledged: the room
      // is another node's now (a durable room learns it from its fenced append).
      if (!this.deps.alive()) return commit.fail(moved("node is not live"));
      this.#publish(applied.events);
      if (marks) this.#mirror().mark(marks);
      return done(applied);
    }
    if (entry.k === "input" || entry.k === "reject")
      (this.#uncommitted ??= new Map()).set(`${entry.member}#${entry.seq}`, commit);
    this.#pending.push(commit);
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
  }

  /**
   * A resent input already processed: it gets its original outcome. If its
   * journal append is still in flight the resend must wait for it: answering
   * now would answer for an input a crash could still lose.
   */
  #resend(reply: Reply, member: string, seq: number, outcome: Outcome): void {
    const dup: RoomReply = outcome.ok
      ? { ...ackReply(seq, outcome), dup: true }
      : err(outcome.code as ErrorCode, outcome.message);
    const commit = this.#uncommitted?.get(`${member}#${seq}`);
    if (!commit) return reply(dup);
    const { done, fail } = commit;
    commit.done = (applied) => {
      done(applied);
      reply(dup);
    };
    commit.fail = (failure) => {
      fail(failure);
      reply(failure);
    };
  }

  #forget(commit: PendingCommit): void {
    if (commit.entry.k !== "input" && commit.entry.k !== "reject") return;
    this.#uncommitted?.delete(`${commit.entry.member}#${commit.entry.seq}`);
  }

  /** Group commit: whatever arrived while the previous append was in flight goes in one message. */
  async #flush(): Promise<void> {
    while (this.#pending.length > 0 && !this.#stopped) {
      const journal = this.#journal!;
      const [batch, data] = this.#nextBatch(journal.revision);
      this.#committing = batch;
      const started = performance.now();
      try {
        // A broker election stalls appends for seconds: retried, the room
        // rides it out (resends of its inputs wait for the outcome meanwhile).
        await journal.append(data, {
          forMs: this.deps.options.journalRetryMs,
          active: () => !this.#stopped && this.deps.alive(),
        });
      } catch (error) {
        this.deps.log.error(
          { err: error, room: this.key, final: isFinalFenceError(error) },
          "journal append failed: stopping room",
        );
        for (const p of batch) {
          this.#forget(p);
          p.fail(moved("journal append failed"));
        }
        return this.stop(`journal: ${(error as Error).name}`);
      }
      this.deps.onJournal?.(performance.now() - started, batch.length);
      this.#committing = [];
      for (const p of batch) {
        this.#forget(p);
        this.#publish(p.applied.events);
        if (p.marks && !this.#stopped) this.#mirror().mark(p.marks);
        p.done(p.applied);
      }
      this.#snapshots.journaled(batch.length);
    }
    this.#snapshots.quiet();
  }

  /**
   * The pending entries that fit one journal message (NATS refuses a message
   * above its max payload, and a refused append would stop the room).
   */
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

  /**
   * Hands the events to the gateway role of this process, if any, and
   * publishes them on NATS only when some member is connected elsewhere:
   * the room's own membership says which gateways need them.
   */
  #publish(events: CoreEvent[]): void {
    if (this.#stopped || !this.deps.alive() || events.length === 0) return;
    this.#remember(events);
    const local = this.deps.local;
    const remote = !local || this.#core.storedMembers().some((m) => m.gateway !== local.id);
    for (const e of events) {
      const message = this.#eventMessage(e);
      local?.deliver(this.room, message);
      if (remote) this.deps.nc.publish(this.#eventSubject, encodeFrame(message));
    }
  }

  /** The event as delivered: the client frame encoded once, for gateways to forward as is. */
  #eventMessage(e: CoreEvent): RoomEvent {
    const { seq, type, body } = e;
    const frame = encodeFrame({ k: ServerKind.Event, room: this.room, seq, type, body });
    const message: RoomEvent = {
      k: InternalKind.Event,
      epoch: this.lease.roomEpoch,
      seq,
      type,
      frame,
    };
    if (e.to) message.to = e.to;
    return message;
  }

  /** Keeps events for resumes (the replay buffer). */
  #remember(events: CoreEvent[]): void {
    if (events.length === 0) return;
    const replay = (this.#replay ??= []);
    replay.push(...events);
    const excess = replay.length - this.deps.options.replayBuffer;
    if (excess > 0) replay.splice(0, excess);
  }

  /** The join's answer as of now (it is being applied in this batch). */
  #joinedReply(request: RoomJoinRequest): RoomReply {
    const buffered: CoreEvent[] = [
      ...(this.#replay ?? []),
      ...this.#committing.flatMap((p) => p.applied.events),
      ...this.#pending.flatMap((p) => p.applied.events),
      // The join's own events too: it was applied in this batch.
      ...this.#inBatch.flat(),
    ];
    return joinedReply(request, {
      core: this.#core,
      epoch: this.lease.roomEpoch,
      buffered,
      stateFor: (id) =>
        visibleState(this.definition, this.#core, id, this.deps.options.handlerBudgetMs, (e) =>
          this.deps.log.warn(
            { err: String(e), room: this.key },
            "visibleState failed: state withheld",
          ),
        ),
    });
  }

  /** Joins and leaves change their member's presence record, and a lead change two flags. */
  #presenceMarks(entry: JournalEntry, leaderBefore: string | null): string[] | undefined {
    if (entry.k !== "join" && entry.k !== "leave") return undefined;
    const marks = [typeof entry.member === "string" ? entry.member : entry.member.id];
    const leader = this.#core.leader;
    if (leader !== leaderBefore) {
      if (leader) marks.push(leader);
      if (leaderBefore) marks.push(leaderBefore);
    }
    return marks;
  }

  #mirror(): PresenceMirror {
    this.#presence ??= new PresenceMirror(
      this.deps.buckets.presence,
      this.room,
      (id) => this.#presenceRecord(id),
      () => !this.#stopped && this.deps.alive(),
      this.deps.log,
    );
    return this.#presence;
  }

  #presenceRecord(id: string): PresenceRecord | undefined {
    const m = this.#core.member(id);
    if (!m) return undefined;
    const { user, name, gateway, gatewayEpoch, conn, joinedAt } = m;
    const leader = this.#core.leader === id;
    return { member: id, user, name, gateway, gatewayEpoch, conn, joinedAt, leader };
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

  /**
   * Only entries that succeeded are journaled (refusals as `reject` entries,
   * which run no handler), so one that throws now would make the room differ
   * from what was acknowledged: the activation fails, loudly, instead.
   */
  #replayEntry(entry: JournalEntry, journalSeq: number): void {
    if (this.#core.includes(entry)) return;
    const budget = Math.max(REPLAY_BUDGET_MS, this.deps.options.handlerBudgetMs * 8);
    try {
      // The previous owner may have died between journaling these and
      // publishing their events: kept for replay, a resuming client (or a
      // gateway resynchronising) gets them instead of a snapshot.
      this.#remember(this.#core.replay(entry, budget).events);
    } catch (error) {
      throw new JournalReplayError(this.key, entry.k, journalSeq, { cause: error });
    }
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

/** Below the 1 MB default max payload of nats-server, with room for headers. */
const MAX_BATCH_BYTES = 512 * 1024;
/** Replay's handler budget floor: re-homing hundreds of rooms at once slows every handler. */
const REPLAY_BUDGET_MS = 2000;

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

function expired(seq: number): ErrReply {
  return err(
    ErrorCode.SEQ_EXPIRED,
    `input seq ${seq} is older than this member's dedupe window: its outcome is no longer known`,
  );
}

/** Where a request's answer goes: a NATS reply subject, or a local gateway's promise. */
type Reply = (reply: RoomReply) => void;

function respond(msg: Msg, reply: RoomReply): void {
  if (msg.reply) msg.respond(encodeFrame(reply));
}

function err(code: ErrorCode, message: string): ErrReply {
  return { k: InternalKind.Err, code, message };
}

function moved(reason: string): ErrReply {
  return err(ErrorCode.ROOM_MOVED, `room is moving (${reason}): retry`);
}

function ackReply(seq: number, applied: Pick<Applied, "result">): RoomAckedReply {
  return applied.result === undefined
    ? { k: InternalKind.Acked, seq }
    : { k: InternalKind.Acked, seq, result: applied.result };
}
