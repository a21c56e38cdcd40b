import type { Logger } from "pino";
import type { RoomRef } from "@rookery/protocol";
import type { RoomReply, RoomRequest } from "@rookery/protocol/internal";
import type { TokenVerifier } from "./auth";
import type { LogOnce } from "./limiter";
import type { GatewayMetrics } from "./metrics";
import type { Membership } from "./membership";
import type { ResolvedGatewayOptions } from "./options";
import type { WriteBatch } from "./write-batch";

export interface RoomRequestOptions {
  deadline?: number;
  /**
   * The caller's signal, asked for only when the request goes over NATS: a
   * request to a room in this process never waits on it, and building an
   * AbortSignal per input is a measurable share of the in-process path.
   */
  signal?: () => AbortSignal;
}

/** What a connection needs from its gateway; the gateway implements it. */
export interface ConnectionContext {
  readonly id: string;
  /** This gateway incarnation's heartbeat epoch (members are tied to it). */
  readonly epoch: string;
  readonly options: ResolvedGatewayOptions;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  readonly logOnce: LogOnce;
  readonly verifier: TokenVerifier;
  readonly draining: boolean;
  /** Coalesces each turn's socket writes. */
  readonly writes: WriteBatch;
  /**
   * Sends a room request, through placement and retries (RoomRouter), until
   * `deadline` (performance.now() clock; default: now + totalWaitMs) or until
   * `signal` fires.
   */
  request(room: RoomRef, frame: RoomRequest, options?: RoomRequestOptions): Promise<RoomReply>;
  /**
   * The room's RoomRef as this gateway's channel of it holds it (else
   * `room`): every member of a room shares one (memory per client). `key`
   * is `formatRoom(room)`.
   */
  sharedRoom(key: string, room: RoomRef): RoomRef;
  /** Adds a membership to its room's fan-out channel, subscribing first if it is the first. */
  subscribe(membership: Membership): void;
  /** A join reply for this membership: where its room's stream stands. */
  channelView(membership: Membership, epoch: number, seq: number): void;
  /** Removes it; the channel unsubscribes with its last member. */
  unsubscribe(membership: Membership): void;
  /** A second connection of one session replaces the first (closed with 4013). */
  claimSession(session: string, connection: { replaced(): void }): void;
  releaseSession(session: string, connection: object): void;
  /** The socket of `connection` closed (the gateway forgets it). */
  connectionClosed(connection: object): void;
  /** An error on a client socket (logged once per message). */
  socketError(error: Error): void;
  /** The socket closed while in the room: the member leaves after the reconnect grace unless it resumes. */
  disconnected(room: RoomRef, member: string, conn: string): void;
}
