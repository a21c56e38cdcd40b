/**
 * Frames between gateways and room actors over NATS (MessagePack maps with a
 * `k` field, like the client frames). Subjects come from `names()`:
 * requests go to `roomIn`, events to `roomEvents`, placement to `place`,
 * process-down notices to `processDown`.
 */
import type { LeaveReason, MemberView, ReplayEvent, ResumeMode } from "./client-frames";
import type { ErrorCode } from "./errors";
import type { RoomRef } from "./identifiers";
import type { ProcessRole } from "./names";
import type { Value } from "./value";

export const InternalKind = {
  Join: "join",
  Leave: "leave",
  Input: "input",
  Joined: "joined",
  Left: "left",
  Acked: "acked",
  Err: "err",
  Event: "ev",
  Place: "place",
  Placed: "placed",
  Down: "down",
} as const;
export type InternalKind = (typeof InternalKind)[keyof typeof InternalKind];

/** A member as the gateway presents it to a room: who, and where their socket is. */
export interface MemberInfo {
  id: string;
  user: string;
  name: string;
  gateway: string;
  /** Heartbeat epoch of the gateway process (a string, as in the nodes bucket). */
  gatewayEpoch: string;
  conn: string;
}

// ---- requests on the room inbox ----

export interface RoomJoinRequest {
  k: typeof InternalKind.Join;
  member: MemberInfo;
  since?: number;
  epoch?: number;
}

export interface RoomLeaveRequest {
  k: typeof InternalKind.Leave;
  member: string;
  /** The connection leaving: a leave from a connection the member no longer uses is ignored. */
  conn: string;
  reason?: LeaveReason;
}

export interface RoomInputRequest {
  k: typeof InternalKind.Input;
  member: string;
  seq: number;
  type: string;
  body: Value;
}

export type RoomRequest = RoomJoinRequest | RoomLeaveRequest | RoomInputRequest;

// ---- replies from the room actor ----

export interface RoomJoinedReply {
  k: typeof InternalKind.Joined;
  epoch: number;
  seq: number;
  mode: ResumeMode;
  state?: Value;
  members: MemberView[];
  leader: string | null;
  replay?: ReplayEvent[];
  /** Snapshot mode: the join's own events addressed to the joiner (client `joined.events`). */
  events?: ReplayEvent[];
}

export interface RoomLeftReply {
  k: typeof InternalKind.Left;
}

export interface RoomAckedReply {
  k: typeof InternalKind.Acked;
  seq: number;
  result?: Value;
  /** A resend of a processed seq: the original outcome, repeated. */
  dup?: boolean;
}

/** Failure reply to any internal request. */
export interface ErrReply {
  k: typeof InternalKind.Err;
  code: ErrorCode;
  message: string;
  after?: number;
}

export type RoomReply = RoomJoinedReply | RoomLeftReply | RoomAckedReply | ErrReply;

/**
 * The reply a room request gets when it succeeds (any may get `err`
 * instead). A request kind added without its reply does not compile here.
 */
export const RoomReplyKind = {
  [InternalKind.Join]: InternalKind.Joined,
  [InternalKind.Leave]: InternalKind.Left,
  [InternalKind.Input]: InternalKind.Acked,
} as const satisfies { readonly [K in RoomRequest["k"]]: Exclude<RoomReply, ErrReply>["k"] };

/** The success reply to a request of kind `K`. */
export type RoomReplyTo<K extends RoomRequest["k"]> = Extract<
  RoomReply,
  { k: (typeof RoomReplyKind)[K] }
>;

// ---- published on the room's event subject ----

export interface RoomEvent {
  k: typeof InternalKind.Event;
  epoch: number;
  /** Contiguous on this subject: every event, private or not, takes the next seq. */
  seq: number;
  type: string;
  /**
   * The client `event` frame (docs/protocol.md §7) for this event, encoded
   * once by the room actor: gateways forward these bytes to their sockets
   * as they are, without decoding the body or encoding it again per event.
   */
  frame: Uint8Array;
  /** Recipients' member ids; absent means every member. */
  to?: string[];
}

// ---- placement, on the place subject (queue group) ----

export interface PlaceRequest {
  k: typeof InternalKind.Place;
  room: RoomRef;
  /**
   * Set on a retry after a `placed` answer was followed by no responders:
   * the owner named may have just released the room, so nodes must not
   * answer from their short-lived memory of owners.
   */
  fresh?: boolean;
}

export interface PlacedReply {
  k: typeof InternalKind.Placed;
  /** Node id now owning the room. */
  node: string;
  /** Room epoch of the new activation. */
  epoch: number;
}

export type PlaceReply = PlacedReply | ErrReply;

// ---- process-down notices ----

/** Published when a process is known dead (expired heartbeat) or shuts down cleanly. */
export interface DownNotice {
  k: typeof InternalKind.Down;
  role: ProcessRole;
  id: string;
  epoch: string;
  reason?: string;
}

export type InternalFrame =
  RoomRequest | RoomReply | RoomEvent | PlaceRequest | PlaceReply | DownNotice;

/** Fails to compile, naming the kind, while a kind of {@link InternalKind} has no frame type above. */
type EveryKindHasAFrame<Missing extends never> = Missing;
type _InternalKindsCovered = EveryKindHasAFrame<Exclude<InternalKind, InternalFrame["k"]>>;
