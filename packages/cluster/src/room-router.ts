import type { NatsConnection } from "@nats-io/transport-node";
import { encodeFrame, ErrorCode, names, ProtocolError, type Names } from "@rookery/protocol";
import {
  decodePlaceReply,
  decodeRoomReply,
  InternalKind,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import {
  NoRespondersError,
  RequestAbortedError,
  RequestMux,
  RequestTimeoutError,
} from "./request-mux";

export interface RoomRouterOptions {
  /** Namespace of subjects. @default "rk" */
  prefix?: string;
  /**
   * Wait for one reply before sending again. Short, because a request that
   * races a room's unsubscribe (handover) is dropped without an answer; a
   * resend is safe (inputs are deduplicated, and a resend of an input whose
   * journal append is in flight is answered only once it is durable).
   * @default 500
   */
  requestTimeoutMs?: number;
  /**
   * Give up (ROOM_UNAVAILABLE) after this long in total, resending the same
   * frame until then. Long enough to ride out a JetStream stream leader
   * election (appends stall 4.5-7 s on nats-server 2.9) or a failover; a
   * room that is truly unavailable fails after this bound.
   * @default 20000
   */
  totalWaitMs?: number;
  /**
   * Tried first when a room is active nowhere (no responders): activates it
   * in this process (room-affine placement, the co-located shape). False
   * falls back to the placement queue group. @default undefined
   */
  placeLocally?: ((type: string, id: string) => Promise<boolean>) | undefined;
}

export interface RoomRequestOptions {
  /**
   * When to give up, on the `performance.now()` clock: a caller that queued
   * the request counts the wait from when it got it, so requests queued behind
   * a stalled one fail in bounded time too. Already passed: fails at once,
   * without sending. @default now + totalWaitMs
   */
  deadline?: number;
  /**
   * Stops resending and waiting when it fires (the request fails with
   * RequestAbortedError); what was sent stays sent.
   */
  signal?: AbortSignal;
}

/**
 * The sending side of the room protocol, as a gateway uses it: a request goes
 * to the room's subject (NATS interest is the directory); "no responders"
 * means the room is not active, so placement is asked and the request
 * retried; ROOM_MOVED (a room handing over) and timeouts are retried with the
 * same frame, which is safe because rooms dedupe inputs by (member, seq) and
 * answer a resend with the original outcome. An input that gets no answer in
 * time fails with ROOM_UNAVAILABLE: its outcome is unknown (docs/protocol.md §6).
 */
export class RoomRouter {
  readonly #names: Names;
  readonly #timeout: number;
  readonly #total: number;
  readonly #mux: RequestMux;
  readonly #placeLocally: RoomRouterOptions["placeLocally"];

  constructor(nc: NatsConnection, options: RoomRouterOptions = {}) {
    this.#mux = new RequestMux(nc);
    this.#placeLocally = options.placeLocally;
    this.#names = names(options.prefix);
    this.#timeout = options.requestTimeoutMs ?? 500;
    this.#total = options.totalWaitMs ?? 20_000;
  }

  /** Gives up the requests still waiting (they fail as timeouts) and the reply subscription. */
  close(): void {
    this.#mux.close();
  }

  /** The total wait of a request (ROOM_UNAVAILABLE after it). */
  get totalWaitMs(): number {
    return this.#total;
  }

  /** Sends a request and returns the room's final reply (`err` replies other than ROOM_MOVED included). */
  async request(
    type: string,
    id: string,
    frame: RoomRequest,
    options: RoomRequestOptions = {},
  ): Promise<RoomReply> {
    const { deadline = performance.now() + this.#total, signal } = options;
    const subject = this.#names.subjects.roomIn(type, id);
    const data = encodeFrame(frame);
    let backoff = 10;
    let placed = false;
    let justPlaced = false;
    let sent = false;
    while (performance.now() < deadline) {
      if (signal?.aborted) throw new RequestAbortedError(`request to ${subject} aborted`);
      const timeout = Math.max(50, Math.min(this.#timeout, deadline - performance.now()));
      sent = true;
      try {
        const msg = await this.#mux.request(subject, data, timeout, signal);
        const reply = decodeRoomReply(msg.data);
        if (!reply.ok) throw reply.error;
        if (reply.frame.k !== InternalKind.Err || reply.frame.code !== ErrorCode.ROOM_MOVED)
          return reply.frame;
      } catch (error) {
        // No responders right after a placement: the owner it named may have
        // just handed the room over, so the next placement skips owner caches.
        if (isNoResponders(error)) {
          const here: boolean = !placed && (await this.#placeHere(type, id));
          const now: boolean = here || (await this.place(type, id, deadline, placed, signal));
          placed ||= now;
          // Just activated: retry at once (once), the room is there now.
          if (now && !justPlaced) {
            justPlaced = true;
            continue;
          }
        } else if (!isTimeout(error)) throw error;
      }
      justPlaced = false;
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 100);
    }
    if (signal?.aborted) throw new RequestAbortedError(`request to ${subject} aborted`);
    throw new ProtocolError(ErrorCode.ROOM_UNAVAILABLE, unavailable(type, id, frame, sent));
  }

  /** Room-affine placement; a failure to place here is not the request's failure. */
  async #placeHere(type: string, id: string): Promise<boolean> {
    if (!this.#placeLocally) return false;
    return this.#placeLocally(type, id).catch(() => false);
  }

  /**
   * Asks the placement queue group to activate the room; resolves true when
   * some node answered that it owns it. `fresh` bypasses the nodes' caches.
   */
  async place(
    type: string,
    id: string,
    deadline = performance.now() + this.#total,
    fresh = false,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const request = { k: InternalKind.Place, room: { type, id } } as const;
    const frame = encodeFrame(fresh ? { ...request, fresh } : request);
    const timeout = Math.max(50, Math.min(this.#timeout * 2, deadline - performance.now()));
    try {
      const msg = await this.#mux.request(this.#names.subjects.place(type), frame, timeout, signal);
      const reply = decodePlaceReply(msg.data);
      if (
        reply.ok &&
        reply.frame.k === InternalKind.Err &&
        reply.frame.code !== ErrorCode.ROOM_UNAVAILABLE
      ) {
        throw new ProtocolError(reply.frame.code, reply.frame.message);
      }
      return reply.ok && reply.frame.k === InternalKind.Placed;
    } catch (error) {
      if (isNoResponders(error)) {
        throw new ProtocolError(ErrorCode.UNKNOWN_ROOM_TYPE, `no node serves room type ${type}`, {
          cause: error,
        });
      }
      if (!isTimeout(error)) throw error;
      return false;
    }
  }
}

function unavailable(type: string, id: string, frame: RoomRequest, sent: boolean): string {
  if (!sent)
    return `room ${type}/${id} unavailable: the request waited its turn too long and was not sent`;
  const what = `room ${type}/${id} did not answer in time`;
  return frame.k === InternalKind.Input ? `${what}: the input's outcome is unknown` : what;
}

const isNoResponders = (error: unknown) => error instanceof NoRespondersError;
const isTimeout = (error: unknown) => error instanceof RequestTimeoutError;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
