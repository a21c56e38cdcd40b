import {
  ErrorCode,
  formatRoom,
  InternalKind,
  LeaveReason,
  ProtocolError,
  roomAllowed,
  ServerKind,
  type ErrorContext,
  type InputFrame,
  type JoinFrame,
  type LeaveFrame,
  type RoomJoinedReply,
  type RoomReply,
  type RoomRequest,
  type ServerFrame,
} from "@rookery/protocol";
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
 * room's lane, and answers the client.
 */
export class ConnectionRooms {
  // Created with the first join: most idle clients never need one (memory per connection).
  #rooms: Map<string, Membership> | undefined;

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
    if (this.#rooms?.has(formatRoom(room))) {
      return refuse(ErrorCode.ALREADY_JOINED, `already in ${formatRoom(room)}`);
    }
    if ((this.#rooms?.size ?? 0) >= this.ctx.options.limits.maxRooms) {
      return refuse(ErrorCode.TOO_MANY_ROOMS, `at most ${this.ctx.options.limits.maxRooms} rooms`);
    }
    const membership = new Membership(room, this.owner);
    (this.#rooms ??= new Map()).set(formatRoom(room), membership);
    this.ctx.subscribe(membership);
    const resume = frame.since !== undefined ? { since: frame.since, epoch: frame.epoch } : {};
    this.#forward(membership, context, this.#joinRequest(resume), (reply) =>
      this.#joined(membership, reply, frame.ref),
    );
  }

  leave(frame: LeaveFrame): void {
    const room = { type: frame.room.type, id: frame.room.id };
    const context: ErrorContext = { ref: frame.ref, room };
    const membership = this.#rooms?.get(formatRoom(room));
    if (!membership?.active) return this.#notJoined(context);
    const previous = membership.state;
    membership.state = MembershipState.Leaving;
    const request: RoomRequest = {
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
    const membership = this.#rooms?.get(formatRoom(room));
    if (!membership?.active) return this.#notJoined(context);
    const request: RoomRequest = {
      k: InternalKind.Input,
      member: this.owner.memberId,
      seq: frame.seq,
      type: frame.type,
      body: frame.body,
    };
    this.#forward(membership, context, request, (reply) => {
      if (reply.k !== InternalKind.Acked) return;
      const ack = { k: ServerKind.Ack, room, seq: frame.seq } as const;
      this.owner.send({
        ...ack,
        ...(reply.result !== undefined ? { result: reply.result } : {}),
        ...(reply.dup ? { dup: true } : {}),
      });
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

  /** The socket closed: every room keeps the member for the reconnect grace, then it leaves. */
  disconnect(): void {
    // Every membership still listed is live: #drop takes a membership out as it ends it.
    for (const membership of [...(this.#rooms?.values() ?? [])]) this.#dropAfterGrace(membership);
  }

  #joinRequest(resume: { since?: number; epoch?: number }): RoomRequest {
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

  #joined(membership: Membership, reply: RoomReply, ref: number | undefined): void {
    if (reply.k !== InternalKind.Joined || membership.state === MembershipState.Gone) return;
    const { k: _k, ...view } = reply as RoomJoinedReply;
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
   * reply; an `err` reply or a routing failure becomes an error frame, and
   * `failed` undoes whatever the caller had marked.
   */
  #forward(
    membership: Membership,
    context: ErrorContext,
    request: RoomRequest,
    done: (reply: RoomReply) => void,
    failed: () => void = () =>
      request.k === InternalKind.Join ? this.#dropAfterGrace(membership) : undefined,
  ): void {
    const started = performance.now();
    const task = async () => {
      const reply = await this.ctx.request(membership.room, request);
      this.ctx.metrics.roundTrip(request.k, (performance.now() - started) / 1000);
      if (reply.k !== InternalKind.Err) return done(reply);
      failed();
      const error = new ProtocolError(reply.code, reply.message, { context });
      this.owner.reject(error, reply.after);
    };
    membership.run(task, (error: unknown) => {
      failed();
      this.owner.reject(asProtocolError(error, context));
    });
  }

  /**
   * Ends a membership here and lets the room drop the member after the
   * reconnect grace (unless it resumes meanwhile). Also for a join that
   * failed: it may still have reached the room (a timeout after the room took
   * it), and the leave is a no-op at the room if it never joined.
   */
  #dropAfterGrace(membership: Membership): void {
    this.#drop(membership);
    this.ctx.disconnected(membership.room, this.owner.memberId, this.owner.id);
  }

  #dropClosed(membership: Membership): void {
    this.#dropAfterGrace(membership);
    this.owner.send({ k: ServerKind.Left, room: membership.room, reason: LeaveReason.Closed });
  }

  #drop(membership: Membership): void {
    if (membership.state === MembershipState.Gone) return;
    membership.state = MembershipState.Gone;
    this.#rooms?.delete(formatRoom(membership.room));
    this.ctx.unsubscribe(membership);
  }

  #notJoined(context: ErrorContext): void {
    const room = context.room!;
    this.owner.reject(
      new ProtocolError(ErrorCode.NOT_JOINED, `not in ${formatRoom(room)}`, { context }),
    );
  }
}

function asProtocolError(error: unknown, context: ErrorContext): ProtocolError {
  if (error instanceof ProtocolError) {
    error.context = { ...context, ...error.context };
    return error;
  }
  return new ProtocolError(ErrorCode.INTERNAL, "internal error", { cause: error, context });
}
