import {
  ErrorCode,
  formatRoom,
  FrameTooLargeError,
  InvalidFieldError,
  MalformedFrameError,
  UnknownFrameError,
  LeaveReason,
  ProtocolError,
  roomAllowed,
  ServerKind,
  type AckFrame,
  type ErrorContext,
  type InputFrame,
  type JoinFrame,
  type LeaveFrame,
  type RoomRef,
  type ServerFrame,
} from "@rookery/protocol";
import {
  InternalKind,
  RoomReplyKind,
  type RoomInputRequest,
  type RoomJoinedReply,
  type RoomJoinRequest,
  type RoomLeaveRequest,
  type RoomReply,
  type RoomReplyTo,
  type RoomRequest,
} from "@rookery/protocol/internal";
import { setMaxListeners } from "node:events";
import type { ConnectionContext } from "./context";
import { Membership, MembershipState, type MembershipOwner } from "./membership";

/** The parts of a connection its rooms use (kept narrow so the two files do not import each other). */
export interface RoomsOwner extends MembershipOwner {
  readonly id: string;
  readonly claims: { sub: string; name?: string; rooms?: string[] } | undefined;
  reject(error: ProtocolError, after?: number): void;
  send(frame: ServerFrame): void;
}

/**
 * The rooms of one connection: checks every join, leave and input against
 * what this connection has joined (membership checks need no shared state:
 * the room actor checks membership again), forwards them through each
 * room's lane, and answers the client. Once the socket closes nothing more
 * is sent for it: requests still queued are dropped, the one in flight stops
 * being resent, and no answer goes to the dead socket.
 */
export class ConnectionRooms {
  // Created with the first join: most idle clients never need one (memory per connection).
  // A list, not a Map by room key: a connection is in a room or a few, and a
  // Map with its key string took ~210 B per client where a list takes ~56.
  #rooms: Membership[] | undefined;
  /** Leaves after failed joins still on their way, by room: a new join of the room waits for them. */
  #cleanups: Map<string, Promise<void>> | undefined;
  /**
   * Fires when the socket closes: requests in flight stop waiting. Held only
   * while a request is in flight (an AbortSignal with its listener map costs
   * a few hundred bytes, and a joined client is mostly idle).
   */
  #closing: AbortController | undefined;
  #inFlight = 0;
  #closed = false;

  constructor(
    private readonly owner: RoomsOwner,
    private readonly ctx: ConnectionContext,
  ) {}

  join(frame: JoinFrame): void {
    const room = { type: frame.room.type, id: frame.room.id };
    const context: ErrorContext = { ref: frame.ref, room };
    const refuse = (code: ErrorCode, message: string) =>
      this.owner.reject(new ProtocolError(code, message, { context }));
    if (this.ctx.draining) return refuse(ErrorCode.GATEWAY_DRAINING, "gateway is draining");
    if (!roomAllowed(this.owner.claims?.rooms, room)) {
      return refuse(ErrorCode.ROOM_FORBIDDEN, `token does not admit ${formatRoom(room)}`);
    }
    if (this.#find(room)) {
      return refuse(ErrorCode.ALREADY_JOINED, `already in ${formatRoom(room)}`);
    }
    if ((this.#rooms?.length ?? 0) >= this.ctx.options.limits.maxRooms) {
      return refuse(ErrorCode.TOO_MANY_ROOMS, `at most ${this.ctx.options.limits.maxRooms} rooms`);
    }
    const key = formatRoom(room);
    const shared = this.ctx.sharedRoom(key, room);
    const membership = new Membership(shared, this.owner, this.#cleanups?.get(key));
    // `[membership]`, not a push onto `[]`, which would reserve 16 slots.
    if (this.#rooms) this.#rooms.push(membership);
    else this.#rooms = [membership];
    this.ctx.subscribe(membership);
    const resume = frame.since !== undefined ? { since: frame.since, epoch: frame.epoch } : {};
    this.#forward(
      membership,
      context,
      this.#joinRequest(resume),
      (reply) => this.#joined(membership, reply, frame.ref),
      (failure) => this.#joinFailed(membership, failure),
    );
  }

  leave(frame: LeaveFrame): void {
    const room = { type: frame.room.type, id: frame.room.id };
    const context: ErrorContext = { ref: frame.ref, room };
    const membership = this.#find(room);
    if (!membership?.active) return this.#notJoined(context);
    const previous = membership.state;
    membership.state = MembershipState.Leaving;
    const request: RoomLeaveRequest = {
      k: InternalKind.Leave,
      member: this.owner.memberId,
      conn: this.owner.id,
      reason: LeaveReason.Left,
    };
    this.#forward(
      membership,
      context,
      request,
      () => {
        this.#drop(membership);
        this.owner.send({ k: ServerKind.Left, ref: frame.ref, room });
      },
      () => (membership.state = previous),
    );
  }

  input(frame: InputFrame): void {
    const room = { type: frame.room.type, id: frame.room.id };
    const context: ErrorContext = { room, seq: frame.seq };
    const membership = this.#find(room);
    if (!membership?.active) return this.#notJoined(context);
    const request: RoomInputRequest = {
      k: InternalKind.Input,
      member: this.owner.memberId,
      seq: frame.seq,
      type: frame.type,
      body: frame.body,
    };
    this.#forward(membership, context, request, (reply) => {
      const ack: AckFrame = { k: ServerKind.Ack, room, seq: frame.seq };
      if (reply.result !== undefined) ack.result = reply.result;
      if (reply.dup) ack.dup = true;
      this.owner.send(ack);
    });
  }

  /** The room's stream had a gap: a resume join from where this member's view stands. */
  resync(membership: Membership): void {
    const context: ErrorContext = { room: membership.room };
    const request = this.#joinRequest({ since: membership.seq, epoch: membership.epoch });
    this.#forward(
      membership,
      context,
      request,
      (reply) => this.#joined(membership, reply, undefined),
      () => this.#dropClosed(membership),
    );
  }

  /**
   * The socket closed: nothing more is sent or answered for it, and every
   * room keeps the member for the reconnect grace, then it leaves.
   */
  disconnect(): void {
    this.#closed = true;
    this.#closing?.abort();
    // Every membership still listed is live: #drop takes a membership out as it ends it.
    for (const membership of [...(this.#rooms ?? [])]) this.#dropAfterGrace(membership);
  }

  #joinRequest(resume: { since?: number; epoch?: number }): RoomJoinRequest {
    const claims = this.owner.claims!;
    return {
      k: InternalKind.Join,
      member: {
        id: this.owner.memberId,
        user: claims.sub,
        name: claims.name ?? "",
        gateway: this.ctx.id,
        gatewayEpoch: this.ctx.epoch,
        conn: this.owner.id,
      },
      ...resume,
    };
  }

  #joined(membership: Membership, reply: RoomJoinedReply, ref: number | undefined): void {
    if (membership.state === MembershipState.Gone) return;
    const { k: _k, ...view } = reply;
    this.owner.send({
      k: ServerKind.Joined,
      ...(ref !== undefined ? { ref } : {}),
      room: membership.room,
      ...view,
    });
    this.ctx.channelView(membership, reply.epoch, reply.seq);
    membership.accept(reply.epoch, reply.seq);
  }

  /**
   * Queues a request on the membership's lane. `done` gets the room's success
   * reply (the kind `RoomReplyKind` names for the request); an `err` reply, a
   * reply of another kind or a routing failure becomes an error frame, and
   * `failed` (given the `err` reply or what was thrown) undoes whatever the
   * caller had marked. The room is waited for `totalWaitMs` from now, not
   * from the request's turn, so a queue behind a stalled room fails in
   * bounded time. A request whose turn comes after the socket closed, or
   * after its membership ended, is never sent.
   */
  #forward<R extends RoomRequest>(
    membership: Membership,
    context: ErrorContext,
    request: R,
    done: (reply: RoomReplyTo<R["k"]>) => void,
    failed: (failure: unknown) => void = () => undefined,
  ): void {
    const received = performance.now();
    const deadline = received + this.ctx.options.totalWaitMs;
    const task = async () => {
      if (this.#closed) return;
      if (membership.state === MembershipState.Gone) return this.#notJoined(context);
      const reply = await this.#request(membership, request, deadline);
      this.ctx.metrics.roundTrip(request.k, (performance.now() - received) / 1000);
      if (this.#closed) return;
      if (reply.k === RoomReplyKind[request.k]) return done(reply as RoomReplyTo<R["k"]>);
      if (reply.k !== InternalKind.Err) {
        const message = `the room answered ${reply.k} to ${request.k}`;
        const error = new ProtocolError(ErrorCode.INTERNAL, message, { context });
        failed(error);
        return this.owner.reject(error);
      }
      failed(reply);
      const error = new ProtocolError(reply.code, reply.message, { context });
      this.owner.reject(error, reply.after);
    };
    membership.run(task, (error: unknown) => {
      if (this.#closed) return;
      const failure = asProtocolError(error, context);
      failed(failure);
      this.owner.reject(failure);
    });
  }

  async #request(
    membership: Membership,
    request: RoomRequest,
    deadline: number,
  ): Promise<RoomReply> {
    this.#inFlight += 1;
    try {
      const signal = () => this.#closingSignal();
      return await this.ctx.request(membership.room, request, { deadline, signal });
    } finally {
      // The last request in flight lets the controller go; disconnect() then has nothing to abort.
      if (--this.#inFlight === 0 && !this.#closed) this.#closing = undefined;
    }
  }

  /** The socket-closed signal, made when a request in flight first needs one (it leaves the process). */
  #closingSignal(): AbortSignal {
    if (!this.#closing) {
      this.#closing = new AbortController();
      if (this.#closed) this.#closing.abort();
      // One listener per request in flight, one per room at most: not a leak.
      setMaxListeners(0, this.#closing.signal);
    }
    return this.#closing.signal;
  }

  /**
   * A join that failed. The membership ends here; when the room's answer is
   * unknown (no answer in time), the join may still have reached the room, so
   * the member is taken out again at once, before any later join of this
   * connection to the room is sent (never after it: a retried join stays in).
   */
  #joinFailed(membership: Membership, failure: unknown): void {
    if (membership.state === MembershipState.Gone) return;
    this.#drop(membership);
    if (outcomeUnknown(failure)) this.#leaveNow(membership.room);
  }

  /**
   * Sends a `disconnected` leave for this connection now (a no-op at the room
   * if the member is not there with this connection); a new membership of the
   * room starts its lane after it. It completes even if the socket closes.
   */
  #leaveNow(room: RoomRef): void {
    const key = formatRoom(room);
    const request: RoomRequest = {
      k: InternalKind.Leave,
      member: this.owner.memberId,
      conn: this.owner.id,
      reason: LeaveReason.Disconnected,
    };
    const before = this.#cleanups?.get(key) ?? Promise.resolve();
    const cleanup = before
      .then(() => this.ctx.request(room, request))
      .then(
        () => undefined,
        (error: unknown) =>
          this.ctx.log.warn(
            { room: key, member: this.owner.memberId, err: String(error) },
            "leave after a failed join failed",
          ),
      );
    (this.#cleanups ??= new Map()).set(key, cleanup);
    void cleanup.then(() => {
      if (this.#cleanups?.get(key) === cleanup) this.#cleanups.delete(key);
    });
  }

  /** Ends a membership here and lets the room drop the member after the reconnect grace (unless it resumes meanwhile). */
  #dropAfterGrace(membership: Membership): void {
    this.#drop(membership);
    this.ctx.disconnected(membership.room, this.owner.memberId, this.owner.id);
  }

  /** A resync failed: the client is told it left, and the member leaves the room now. */
  #dropClosed(membership: Membership): void {
    if (membership.state === MembershipState.Gone) return;
    this.#drop(membership);
    this.#leaveNow(membership.room);
    this.owner.send({ k: ServerKind.Left, room: membership.room, reason: LeaveReason.Closed });
  }

  #drop(membership: Membership): void {
    if (membership.state === MembershipState.Gone) return;
    membership.state = MembershipState.Gone;
    const at = this.#rooms?.indexOf(membership) ?? -1;
    if (at >= 0) this.#rooms!.splice(at, 1);
    this.ctx.unsubscribe(membership);
  }

  /** A loop, not `find`: it runs per input, and makes no closure. */
  #find(room: RoomRef): Membership | undefined {
    for (const m of this.#rooms ?? []) {
      if (m.room.id === room.id && m.room.type === room.type) return m;
    }
    return undefined;
  }

  #notJoined(context: ErrorContext): void {
    const room = context.room!;
    this.owner.reject(
      new ProtocolError(ErrorCode.NOT_JOINED, `not in ${formatRoom(room)}`, { context }),
    );
  }
}

/** No answer from the room in time (or a failure of our own): the request may have reached it. */
function outcomeUnknown(failure: unknown): boolean {
  const code =
    failure instanceof ProtocolError
      ? failure.code
      : (failure as RoomReply | undefined)?.k === InternalKind.Err
        ? (failure as Extract<RoomReply, { k: "err" }>).code
        : ErrorCode.INTERNAL;
  return code === ErrorCode.ROOM_UNAVAILABLE || code === ErrorCode.INTERNAL;
}

/**
 * What a failed request tells the client. A room reply the gateway could not
 * decode is the server's fault: INTERNAL, never the decoder's BAD_FRAME or
 * INVALID_FIELD, which would blame (and count against) the client's frame.
 */
function asProtocolError(error: unknown, context: ErrorContext): ProtocolError {
  if (error instanceof ProtocolError && !isDecodeError(error)) {
    error.context = { ...context, ...error.context };
    return error;
  }
  return new ProtocolError(ErrorCode.INTERNAL, "internal error", { cause: error, context });
}

const isDecodeError = (error: ProtocolError): boolean =>
  error instanceof MalformedFrameError ||
  error instanceof UnknownFrameError ||
  error instanceof FrameTooLargeError ||
  error instanceof InvalidFieldError;
