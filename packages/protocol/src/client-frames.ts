/**
 * Frames between a client and a gateway (one WebSocket binary message = one
 * MessagePack map). Every frame has `k`, its kind. Optional fields may be
 * omitted or nil; unknown fields are ignored so later versions can add some.
 */
import type { ErrorCode } from "./errors";
import type { RoomRef } from "./identifiers";
import type { Value } from "./value";

/** HTTP paths a gateway serves. */
export const HttpPath = {
  /** WebSocket endpoint. */
  WebSocket: "/ws",
  /** `GET /discover?region=R[&exclude=gw1,gw2]` → {@link DiscoverResponse}. */
  Discover: "/discover",
} as const;

/** Body of a successful discovery response. */
export interface DiscoverResponse {
  /** WebSocket URL to connect to, e.g. `wss://gw-2.example.com/ws`. */
  url: string;
  gateway: string;
  region: string;
}

/** Claims of the HS256 JWT a client presents in `hello`; other claims are ignored. */
export interface TokenClaims {
  /** User id: 1-128 characters, no control characters. */
  sub: string;
  /** Display name, up to 128 characters; "" when absent. */
  name?: string;
  /** Expiry, in seconds since the Unix epoch. */
  exp: number;
  /** Rooms the token admits, as `type/id` or `type/*`; absent admits all. */
  rooms?: string[];
}

/** The version a client states in `hello.v` and a gateway echoes in `welcome.v`. */
export const PROTOCOL_VERSION = 1;

export const ClientKind = {
  Hello: "hello",
  Join: "join",
  Leave: "leave",
  Input: "input",
  Ping: "ping",
} as const;
export type ClientKind = (typeof ClientKind)[keyof typeof ClientKind];

export const ServerKind = {
  Welcome: "welcome",
  Joined: "joined",
  Left: "left",
  Ack: "ack",
  Event: "event",
  Error: "error",
  Reconnect: "reconnect",
  Pong: "pong",
} as const;
export type ServerKind = (typeof ServerKind)[keyof typeof ServerKind];

/** Reserved event types the runtime emits; application types never start with `$`. */
export const SystemEvent = {
  Join: "$join",
  Leave: "$leave",
  Leader: "$leader",
} as const;
export type SystemEvent = (typeof SystemEvent)[keyof typeof SystemEvent];

/** How a `joined` brings the client up to date. */
export const ResumeMode = {
  /** Forget any earlier view: `state` (if the room exposes one) and `members` are as of `seq`. */
  Snapshot: "snapshot",
  /** Apply `replay` (every event after `since`) in order; the view is then as of `seq`. */
  Replay: "replay",
} as const;
export type ResumeMode = (typeof ResumeMode)[keyof typeof ResumeMode];

/** Why a member left a room (`$leave` body, internal `leave`). */
export const LeaveReason = {
  Left: "left",
  Disconnected: "disconnected",
  GatewayLost: "gateway-lost",
  Kicked: "kicked",
  Closed: "closed",
} as const;
export type LeaveReason = (typeof LeaveReason)[keyof typeof LeaveReason];

// ---- client → gateway ----

/** First frame of every connection. */
export interface HelloFrame {
  k: typeof ClientKind.Hello;
  v: number;
  token: string;
  /** Client-generated, kept across reconnects: member id is `<token sub>:<session>`. */
  session: string;
}

export interface JoinFrame {
  k: typeof ClientKind.Join;
  ref: number;
  room: RoomRef;
  /** Resume: last room event seq seen, with the room epoch it was seen under (both or neither). */
  since?: number;
  epoch?: number;
}

export interface LeaveFrame {
  k: typeof ClientKind.Leave;
  ref: number;
  room: RoomRef;
}

export interface InputFrame {
  k: typeof ClientKind.Input;
  room: RoomRef;
  /** Per session, strictly increasing across all rooms, from 1; resent unchanged until acked. */
  seq: number;
  type: string;
  body: Value;
}

export interface PingFrame {
  k: typeof ClientKind.Ping;
  t: number;
}

export type ClientFrame = HelloFrame | JoinFrame | LeaveFrame | InputFrame | PingFrame;

// ---- gateway → client ----

/**
 * The per-connection limits a gateway announces in `welcome` (docs/protocol.md
 * §9). Gateways send every field; the last three are optional for decoders
 * because gateways before them did not send them (assume the defaults then).
 */
export interface ConnectionLimits {
  maxFrameBytes: number;
  maxRooms: number;
  ratePerSec: number;
  burst: number;
  /** The gateway closes (4010) a connection that sent nothing for this long, in ms. */
  idleTimeoutMs?: number;
  /** Rejected frames a minute the connection may cause; the next one closes it (4008). */
  maxErrorsPerMinute?: number;
  /** Deepest nesting of a client frame, its own map counting 1. */
  maxDepth?: number;
}

export interface WelcomeFrame {
  k: typeof ServerKind.Welcome;
  v: number;
  conn: string;
  member: string;
  gateway: string;
  limits: ConnectionLimits;
  heartbeatMs: number;
}

/** A room member as clients see it. */
export type MemberView = {
  id: string;
  user: string;
  name: string;
  /** Milliseconds since the Unix epoch. */
  joinedAt: number;
};

/** An event inside `joined.replay`. */
export interface ReplayEvent {
  seq: number;
  type: string;
  body: Value;
}

export interface JoinedFrame {
  k: typeof ServerKind.Joined;
  /** The `join` this answers; absent when the gateway resynchronises on its own. */
  ref?: number;
  room: RoomRef;
  /** Room epoch (changes when the room is re-activated); echo it with `since`. */
  epoch: number;
  /** Room event seq the view is as of. */
  seq: number;
  mode: ResumeMode;
  state?: Value;
  members: MemberView[];
  leader: string | null;
  replay?: ReplayEvent[];
  /**
   * Snapshot mode only: events the room addressed to this member while
   * applying this very join (what its `onJoin` sent). Their effect is in
   * `state`; deliver them to the application after the view (§5).
   */
  events?: ReplayEvent[];
}

export interface LeftFrame {
  k: typeof ServerKind.Left;
  /** The `leave` this answers; absent when the server removed the member. */
  ref?: number;
  room: RoomRef;
  reason?: LeaveReason;
}

export interface AckFrame {
  k: typeof ServerKind.Ack;
  room: RoomRef;
  /** The input's seq. */
  seq: number;
  result?: Value;
  /** True when this seq was processed before: this ack repeats its original outcome (and result). */
  dup?: boolean;
}

export interface EventFrame {
  k: typeof ServerKind.Event;
  room: RoomRef;
  /** Room event seq: strictly increasing per room. */
  seq: number;
  type: string;
  body: Value;
}

export interface ErrorFrame {
  k: typeof ServerKind.Error;
  code: ErrorCode;
  message: string;
  ref?: number;
  room?: RoomRef;
  /** The input seq the error is about. */
  seq?: number;
  /** Suggested wait before retrying, in ms. */
  after?: number;
}

export interface ReconnectFrame {
  k: typeof ServerKind.Reconnect;
  reason: string;
  /** Suggested wait before reconnecting, in ms. */
  after?: number;
}

export interface PongFrame {
  k: typeof ServerKind.Pong;
  t: number;
}

export type ServerFrame =
  | WelcomeFrame
  | JoinedFrame
  | LeftFrame
  | AckFrame
  | EventFrame
  | ErrorFrame
  | ReconnectFrame
  | PongFrame;

// ---- bodies of system events ----

/** `$join`: the member who joined. */
export type JoinEventBody = MemberView;

/** `$leave`: who left and why. */
export type LeaveEventBody = {
  id: string;
  reason: LeaveReason;
};

/** `$leader`: the new leader (null when the room is empty) and the previous one. */
export type LeaderEventBody = {
  id: string | null;
  prev: string | null;
};
