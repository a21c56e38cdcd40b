import type { Value } from "@rookery/protocol";
import {
  decodeRoomRequest,
  type RoomJoinRequest,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import type { Lease } from "@rookery/cluster";
import { leaseKey } from "@rookery/cluster/internal";
import type { ActorDeps } from "./actor-deps";
import { encodeSnapshot, type Snapshot } from "./journal";
import { fence, load, prefetch, type Prefetched } from "./activation";
import { GroupCommit, type CommitOwner, type PendingCommit } from "./group-commit";
import { RoomMailbox, type MailboxOwner } from "./mailbox";
import { err, moved, respond, type Reply } from "./replies";
import { RoomOutput } from "./room-output";
import { isDurable, type RoomDefinition } from "./room";
import { joinedReply, visibleState } from "./join-view";
import { answersMoved, Phase, refusal, type Lifecycle } from "./room-lifecycle";
import { RoomSnapshots } from "./room-snapshots";
import type { CoreEvent, RoomCore } from "./room-core";
import type { Inbound, Served } from "./transport";

export type { ActorDeps } from "./actor-deps";
export type { LocalGateway } from "./event-log";
export type { Prefetched } from "./activation";
export { JournalReplayError } from "./replies";

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;

/**
 * One activation of a room on this node: the single writer of its state. It
 * applies requests one at a time in arrival order (its mailbox), journals
 * them with group commit, and only then replies and publishes the events.
 * Every write is fenced; a failed fence stops the actor at once, emitting
 * nothing more. Its phase (room-lifecycle.ts) says what it may still do.
 */
export class RoomActor implements CommitOwner, MailboxOwner {
  readonly key: string;
  #state: Lifecycle = { phase: Phase.Activating };
  #core!: RoomCore;
  #mailbox!: RoomMailbox;
  #snapshots!: RoomSnapshots;
  #sub: Served | undefined;
  /** Durable rooms only. */
  #commits: GroupCommit | undefined;
  #output!: RoomOutput;
  #lastActivity = performance.now();

  constructor(
    readonly definition: AnyRoom,
    readonly room: { type: string; id: string },
    readonly lease: Lease,
    private readonly deps: ActorDeps<RoomActor>,
  ) {
    this.key = leaseKey(room.type, room.id);
  }

  get phase(): Phase {
    return this.#state.phase;
  }
  get durable(): boolean {
    return isDurable(this.definition);
  }
  get stopped(): boolean {
    return this.#state.phase === Phase.Stopped;
  }
  /** Whether a request handed to this actor now would be served here. */
  get serving(): boolean {
    return this.#state.phase === Phase.Serving;
  }
  get idleMs(): number {
    return performance.now() - this.#lastActivity;
  }
  /** Rooms with armed timers or ticks keep running (a chess clock must not sleep). */
  get busy(): boolean {
    return (this.#mailbox?.busy ?? false) || this.pendingCount > 0;
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
  refusal(): string | undefined {
    return refusal(this.#state);
  }

  /**
   * Loads snapshot and journal, fences the previous owner, and starts
   * serving. Resolves with where the time went (ms per step), for logs.
   */
  async activate(prefetched?: Promise<Prefetched>): Promise<Record<string, number>> {
    const t0 = performance.now();
    const read = await (prefetched ?? prefetch(this.deps, this.room, this.durable));
    const t1 = performance.now();
    const loaded = await load(this.deps, this.definition, this.room, this.durable, read);
    this.#core = loaded.core;
    this.#mailbox = new RoomMailbox(loaded.core, this, this.deps.batch, this.deps.log);
    this.#snapshots = new RoomSnapshots(this, loaded.snapshotFence, this.deps);
    this.#output = new RoomOutput(this, loaded.core, this.deps);
    if (loaded.replayed.length > 0) this.#output.remember(loaded.replayed);
    if (loaded.moved.length > 0) this.#output.mark(loaded.moved);
    if (loaded.journal) {
      const { options, alive, log, onJournal } = this.deps;
      const retryMs = options.journalRetryMs;
      this.#commits = new GroupCommit(loaded.journal, this, { alive, retryMs, log, onJournal });
    }
    const t2 = performance.now();
    const epoch = { epoch: this.lease.roomEpoch, node: this.deps.nodeId };
    await fence(loaded, epoch, encodeSnapshot(this.snapshot(loaded.journalSeq)));
    if (this.#state.phase === Phase.Activating) this.#serve();
    const now = performance.now();
    return { read: t1 - t0, journal: t2 - t1, fence: now - t2, total: now - t0 };
  }

  /** Clean handoff (passivation, drain): no new requests, commit what is pending, release. */
  async passivate(release: (lease: Lease) => Promise<void>, reason: string): Promise<void> {
    if (this.stopped) return;
    this.#state = { phase: Phase.Moving, reason };
    this.#clearTimers();
    try {
      await this.#handOver(release, reason);
    } catch (error) {
      // A failed step (snapshot, release) must not leave the room subscribed
      // and moving: it would answer ROOM_MOVED to every retry, for ever.
      this.stop(`${reason}: handover failed`);
      throw error;
    }
  }

  async #handOver(release: (lease: Lease) => Promise<void>, reason: string): Promise<void> {
    await this.#commits?.flushed;
    if (this.stopped) return;
    // On drain, a durable room hands over at once: its journal already holds
    // everything, and the next owner replays the few entries since the last
    // snapshot. Ephemeral rooms (and idle passivation) snapshot first.
    if (!(this.durable && reason === "drain")) await this.#snapshots.write();
    // The last leaves' presence writes go out before the room stops writing:
    // a room that passivates empty may not be activated again for a long time.
    await this.#output.idle();
    await this.#snapshots.purging;
    this.#halt(reason, true);
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
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#clearTimers();
    this.#commits?.abandon(reason);
    this.#halt(reason, false);
  }

  /** Removes every member that came through a gateway incarnation that is gone. */
  dropGateway(gateway: string, gatewayEpoch: string): void {
    // A room handing over leaves its ghosts to the next owner, which drops them at activation.
    if (this.#state.phase !== Phase.Serving) return;
    this.#mailbox.dropGateway(gateway, gatewayEpoch);
  }

  /**
   * A request from a gateway in this process (the local fast path): the same
   * mailbox turn as one that came over NATS, with no encoding either way.
   * Always settles: a room stopping or moving answers ROOM_MOVED, and the
   * gateway re-routes over NATS.
   */
  request(frame: RoomRequest): Promise<RoomReply> {
    return new Promise((resolve) => {
      const refused = this.refusal();
      if (refused !== undefined) return resolve(moved(refused));
      this.#handle(frame, resolve);
    });
  }

  #serve(): void {
    const subject = this.deps.names.subjects.roomIn(this.room.type, this.room.id);
    this.#sub = this.deps.transport.subscribe(subject, (msg) => this.#onRequest(msg));
    this.#state = { phase: Phase.Serving };
    this.#mailbox.armTimers();
    const tickMs = this.definition.tickMs;
    if (tickMs && this.definition.onTick) this.#mailbox.startTicks(tickMs);
    this.#dropGhosts();
  }

  #onRequest(msg: Inbound): void {
    const reply: Reply = (r) => respond(msg, r);
    if (answersMoved(this.#state)) return reply(moved(refusal(this.#state)!));
    if (this.stopped) return;
    const decoded = decodeRoomRequest(msg.data);
    if (!decoded.ok) return reply(err(decoded.error.code, decoded.error.message));
    this.#handle(decoded.frame, reply);
  }

  #handle(request: RoomRequest, reply: Reply): void {
    this.#lastActivity = performance.now();
    this.#mailbox.handle(request, reply);
  }

  // ---- MailboxOwner (RoomMailbox) ----

  commit(commit: PendingCommit): void {
    const { applied, marks, done } = commit;
    this.#snapshots.dirty = true;
    this.#mailbox.armTimers();
    if (this.#commits) return this.#commits.add(commit);
    // Past the node's fail-stop deadline nothing is acknowledged: the room
    // is another node's now (a durable room learns it from its fenced append).
    if (!this.deps.alive()) return commit.fail(moved("node is not live"));
    this.#output.publish(applied.events);
    if (marks) this.#output.mark(marks);
    done(applied);
  }

  /** A resent input already processed: it gets its original outcome, once that outcome is durable. */
  resend(reply: Reply, member: string, seq: number, answer: RoomReply): void {
    if (!this.#commits?.whenDurable(member, seq, reply, answer)) reply(answer);
  }

  joinedReply(request: RoomJoinRequest, joinEvents: CoreEvent[]): RoomReply {
    const core = this.#core;
    const { options, log } = this.deps;
    // Every event still held: published, committing, and applied in this batch (the join's own).
    const buffered = [
      this.#output.buffered,
      this.#commits?.unpublished() ?? [],
      this.#mailbox.inBatch,
    ];
    const withheld = (e: unknown) =>
      log.warn({ err: String(e), room: this.key }, "visibleState failed: state withheld");
    const stateFor = (id: string) =>
      visibleState(this.definition, core, id, options.handlerBudgetMs, withheld);
    const epoch = this.lease.roomEpoch;
    return joinedReply(request, { core, epoch, buffered: buffered.flat(2), joinEvents, stateFor });
  }

  // ---- CommitOwner (GroupCommit) ----

  committed(batch: PendingCommit[]): void {
    for (const p of batch) {
      this.#output.publish(p.applied.events);
      if (p.marks) this.#output.mark(p.marks);
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
    if (members.length > 0) this.#output.reconcile(members);
    this.#snapshots.startPeriodic();
  }

  #clearTimers(): void {
    this.#mailbox?.stopClock();
    this.#snapshots?.stop();
  }

  #halt(reason: string, handedOver: boolean): void {
    if (this.stopped) return;
    this.#state = { phase: Phase.Stopped, reason, handedOver };
    this.#output?.stop();
    this.#clearTimers();
    this.deps.onStopped(this, reason);
  }
}
