import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { RoomRef } from "@rookery/protocol";
import { decodeRoomEvent, type RoomEvent } from "@rookery/protocol/internal";
import type { Membership } from "./membership";

export interface ChannelHooks {
  /** An undecodable message on the event subject (logged once, never fatal). */
  badEvent: (room: RoomRef, reason: string) => void;
  /** Time spent handing one event to every local member. */
  fanout: (ms: number) => void;
  /**
   * Whether the room's actor is serving in this process (co-located shape):
   * its events then come in-process through `deliver`, and a copy on NATS
   * (published for members on other gateways) is dropped undecoded.
   */
  servedHere: () => boolean;
}

/**
 * The fan-out of one room on this gateway: one NATS subscription shared by
 * every local member, whatever the number of sockets. It checks the stream
 * is contiguous (docs/protocol.md §15): duplicates are dropped, and a gap
 * (NATS drops messages to slow subscribers) resynchronises every local
 * member through a resume join instead of silently losing events.
 */
export class RoomChannel {
  readonly members = new Set<Membership>();
  #sub: Subscription | undefined;
  #last: { epoch: number; seq: number } | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
    readonly room: RoomRef,
    private readonly hooks: ChannelHooks,
  ) {}

  /** Subscribes; call before the first join is sent, so nothing after its reply is missed. */
  start(): void {
    this.#sub ??= this.nc.subscribe(this.subject, {
      callback: (error, msg) => {
        if (!error && !this.hooks.servedHere()) this.#onMessage(msg.data);
      },
    });
  }

  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }

  add(membership: Membership): void {
    this.members.add(membership);
  }

  /** Returns true when no local member is left (the caller then stops the channel). */
  remove(membership: Membership): boolean {
    this.members.delete(membership);
    return this.members.size === 0;
  }

  /** A join reply: the stream position it vouches for, if none is known yet. */
  noteView(epoch: number, seq: number): void {
    this.#last ??= { epoch, seq };
  }

  #onMessage(data: Uint8Array): void {
    const decoded = decodeRoomEvent(data);
    if (!decoded.ok) return this.hooks.badEvent(this.room, decoded.error.message);
    this.deliver(decoded.frame);
  }

  /**
   * One event, from NATS or from an actor in this process. While the actor
   * serves here, its NATS copies are not even decoded; one that arrives
   * around a handover (the actor stopped serving meanwhile) is dropped here
   * as a duplicate, and one skipped from another owner shows as a gap, which
   * resyncs.
   */
  deliver(event: RoomEvent): void {
    const last = this.#last;
    if (last && event.epoch === last.epoch && event.seq <= last.seq) return;
    this.#last = { epoch: event.epoch, seq: event.seq };
    if (last && event.seq !== last.seq + 1) this.#resyncAll();
    const started = performance.now();
    // The room actor encoded the client frame once (docs/protocol.md §15): it is sent as is.
    for (const member of this.members) member.offer(event);
    this.hooks.fanout(performance.now() - started);
  }

  #resyncAll(): void {
    for (const member of this.members) member.resync();
  }
}
