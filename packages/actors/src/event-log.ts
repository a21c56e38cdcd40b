import { encodeFrame, ServerKind, type RoomRef } from "@rookery/protocol";
import { InternalKind, type RoomEvent } from "@rookery/protocol/internal";
import type { StoredMember } from "./journal";
import type { CoreEvent } from "./room-core";
import type { Transport } from "./transport";

/** A gateway role in this process: room events reach its members without NATS. */
export interface LocalGateway {
  /** The gateway's id: events for members joined through it need no NATS publish. */
  readonly id: string;
  /** Hands one event to the gateway's members of the room, synchronously and in order. */
  deliver(room: RoomRef, event: RoomEvent): void;
}

export interface EventLogDeps {
  transport: Transport;
  local?: LocalGateway | undefined;
  /** Events kept for resumes. */
  replayBuffer: number;
}

/**
 * A room's published events: handed to the co-located gateway in-process,
 * published on NATS while some member is connected through another gateway
 * (the room's own membership says which), and kept in a bounded buffer for
 * resumes (protocol.md §8).
 */
export class EventLog {
  // Created on first use: most rooms are idle, and each one costs memory (budget: 4 KB a room).
  #replay: CoreEvent[] | undefined;
  /** The member list `#remote` was worked out for (the core replaces it on every change). */
  #seen: readonly StoredMember[] | undefined;
  #remote = false;

  constructor(
    private readonly room: RoomRef,
    private readonly epoch: number,
    private readonly subject: string,
    private readonly deps: EventLogDeps,
    private readonly members: () => readonly StoredMember[],
  ) {}

  /** Events still held for resumes (the last `replayBuffer`), oldest first. */
  get buffered(): readonly CoreEvent[] {
    const replay = this.#replay ?? [];
    const limit = this.deps.replayBuffer;
    return replay.length > limit ? replay.slice(-limit) : replay;
  }

  publish(events: CoreEvent[]): void {
    if (events.length === 0) return;
    this.remember(events);
    const local = this.deps.local;
    const remote = !local || this.#anyRemote(local.id);
    for (const e of events) {
      const message = this.#message(e);
      local?.deliver(this.room, message);
      if (remote) this.deps.transport.publish(this.subject, encodeFrame(message));
    }
  }

  /**
   * Whether a member is connected through another gateway. The scan runs
   * once per membership change, not per publish: the core hands out a new
   * member list whenever a join, leave or rejoin changes it (a rejoin may
   * move a member to another gateway), and a rollback brings back the old.
   */
  #anyRemote(localId: string): boolean {
    const members = this.members();
    if (members !== this.#seen) {
      this.#seen = members;
      this.#remote = members.some((m) => m.gateway !== localId);
    }
    return this.#remote;
  }

  /** Keeps events for resumes without publishing them (a journal replay's). */
  remember(events: CoreEvent[]): void {
    if (events.length === 0) return;
    const replay = (this.#replay ??= []);
    for (const e of events) replay.push(e);
    // Trimmed an eighth of the limit past it, not one event per event: each
    // trim moves the whole buffer (1,000 events by default).
    const limit = this.deps.replayBuffer;
    if (replay.length > limit + Math.max(1, limit >> 3)) replay.splice(0, replay.length - limit);
  }

  /** The event as delivered: the client frame encoded once, for gateways to forward as is. */
  #message(e: CoreEvent): RoomEvent {
    const { seq, type, body } = e;
    const frame = encodeFrame({ k: ServerKind.Event, room: this.room, seq, type, body });
    const message: RoomEvent = { k: InternalKind.Event, epoch: this.epoch, seq, type, frame };
    if (e.to) message.to = e.to;
    return message;
  }
}
