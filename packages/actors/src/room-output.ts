import type { Lease } from "@rookery/cluster";
import type { ActorDeps } from "./actor-deps";
import { EventLog } from "./event-log";
import { PresenceMirror, presenceRecord } from "./presence-mirror";
import type { CoreEvent, RoomCore } from "./room-core";
import type { RoomRef } from "./storage";

/** What a room's output needs of its actor. */
export interface OutputOwner {
  readonly room: RoomRef;
  readonly lease: Lease;
  readonly stopped: boolean;
}

/**
 * What a room sends out once an entry is committed: its events (EventLog:
 * the co-located gateway, NATS, the resume buffer) and its members'
 * presence records (PresenceMirror). Both are created on first use: most
 * rooms are idle, and each object costs memory (budget: 4 KB a room).
 */
export class RoomOutput {
  #events: EventLog | undefined;
  #presence: PresenceMirror | undefined;

  constructor(
    private readonly owner: OutputOwner,
    private readonly core: RoomCore,
    private readonly deps: Omit<ActorDeps, "onStopped">,
  ) {}

  /** Events published and still held for resumes, oldest first. */
  get buffered(): readonly CoreEvent[] {
    return this.#events?.buffered ?? [];
  }

  /** Publishes committed events, unless the room stopped or the node is past its deadline. */
  publish(events: CoreEvent[]): void {
    if (this.owner.stopped || !this.deps.alive()) return;
    this.#eventLog().publish(events);
  }

  /** Keeps events for resumes without publishing them (a journal replay's). */
  remember(events: CoreEvent[]): void {
    this.#eventLog().remember(events);
  }

  /** Members whose presence record changed. */
  mark(members: string[]): void {
    if (!this.owner.stopped) this.#mirror().mark(members);
  }

  /** Rewrites the members' records and deletes those of members no longer in the room. */
  reconcile(members: string[]): void {
    this.#mirror().reconcile(members);
  }

  /** Resolves once no presence write is left. */
  async idle(): Promise<void> {
    await this.#presence?.idle();
  }

  /** No presence write from here on. */
  stop(): void {
    this.#presence?.stop();
  }

  #eventLog(): EventLog {
    const { names, transport, local, options } = this.deps;
    const { room, lease } = this.owner;
    this.#events ??= new EventLog(
      room,
      lease.roomEpoch,
      names.subjects.roomEvents(room.type, room.id),
      { transport, local, replayBuffer: options.replayBuffer },
      () => this.core.storedMembers(),
    );
    return this.#events;
  }

  #mirror(): PresenceMirror {
    this.#presence ??= new PresenceMirror(
      this.deps.storage,
      this.owner.room,
      (id) => presenceRecord(this.core, id),
      () => !this.owner.stopped && this.deps.alive(),
      this.deps.log,
    );
    return this.#presence;
  }
}
