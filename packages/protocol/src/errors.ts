import type { RoomRef } from "./identifiers";

/** Every error code of the system; sent in `error` frames and internal `err` replies. */
export const ErrorCode = {
  BAD_FRAME: "BAD_FRAME",
  UNKNOWN_KIND: "UNKNOWN_KIND",
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  INVALID_FIELD: "INVALID_FIELD",
  NOT_AUTHENTICATED: "NOT_AUTHENTICATED",
  AUTH_FAILED: "AUTH_FAILED",
  TOKEN_EXPIRED: "TOKEN_EXPIRED",
  ROOM_FORBIDDEN: "ROOM_FORBIDDEN",
  NOT_JOINED: "NOT_JOINED",
  ALREADY_JOINED: "ALREADY_JOINED",
  TOO_MANY_ROOMS: "TOO_MANY_ROOMS",
  RATE_LIMITED: "RATE_LIMITED",
  ROOM_UNAVAILABLE: "ROOM_UNAVAILABLE",
  ROOM_MOVED: "ROOM_MOVED",
  SEQ_EXPIRED: "SEQ_EXPIRED",
  INPUT_REJECTED: "INPUT_REJECTED",
  UNKNOWN_ROOM_TYPE: "UNKNOWN_ROOM_TYPE",
  SLOW_CONSUMER: "SLOW_CONSUMER",
  GATEWAY_DRAINING: "GATEWAY_DRAINING",
  QUEUE_FULL: "QUEUE_FULL",
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** One line per code; docs/protocol.md carries the full table. */
export const errorDescriptions: Readonly<Record<ErrorCode, string>> = {
  BAD_FRAME: "The message is not a single well-formed MessagePack map within the nesting limit.",
  UNKNOWN_KIND:
    "The frame's `k` names no frame kind accepted here (direction or connection state).",
  FRAME_TOO_LARGE: "The message is longer than the maximum frame size; it was not decoded.",
  INVALID_FIELD:
    "A field is missing, has the wrong type, or is out of range (NaN and ±Infinity included, in application data too).",
  NOT_AUTHENTICATED:
    "The first frame of a connection was not a `hello` (another kind, or not a decodable frame at all).",
  AUTH_FAILED:
    "The token is malformed, longer than 8,192 characters, or its signature does not verify.",
  TOKEN_EXPIRED: "The token's `exp` has passed.",
  ROOM_FORBIDDEN: "The token's `rooms` allow-list does not admit this room.",
  NOT_JOINED: "The connection has not joined the room the frame refers to.",
  ALREADY_JOINED: "The connection has already joined (or is joining) this room.",
  TOO_MANY_ROOMS: "The connection is already in the maximum number of rooms.",
  RATE_LIMITED: "The connection sends frames faster than its rate limit; retry after `after` ms.",
  ROOM_UNAVAILABLE:
    "No node could serve the room in time. For an input the outcome is unknown: re-send the same seq to learn it.",
  ROOM_MOVED: "Internal: the actor that received the request no longer owns the room; re-route.",
  SEQ_EXPIRED:
    "The input's seq is older than the room's dedupe window for this member: its outcome is no longer known.",
  INPUT_REJECTED: "The room's logic refused the input or join (its handler threw or rejected it).",
  UNKNOWN_ROOM_TYPE: "No node serves this room type.",
  SLOW_CONSUMER: "The client does not read fast enough; its outgoing buffer overflowed.",
  GATEWAY_DRAINING: "The gateway is shutting down and takes no new joins; reconnect elsewhere.",
  QUEUE_FULL: "Client SDK only: the offline input queue is full; the input was not queued.",
  INTERNAL: "An unexpected server error; the request had no effect that can be relied on.",
};

/**
 * The rejections a gateway decides itself about a client's own frames: each
 * one counts toward `maxErrorsPerMinute`, and the one past it closes the
 * socket with 4008 (docs/protocol.md §10, the "budget" column). Answers that
 * come from rooms or the cluster never count: an illegal chess move is not abuse.
 */
export const errorBudgetCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.BAD_FRAME,
  ErrorCode.UNKNOWN_KIND,
  ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.INVALID_FIELD,
  ErrorCode.ROOM_FORBIDDEN,
  ErrorCode.NOT_JOINED,
  ErrorCode.ALREADY_JOINED,
  ErrorCode.TOO_MANY_ROOMS,
  ErrorCode.RATE_LIMITED,
]);

/** WebSocket close codes used by gateways (application range 4000-4999). */
export const CloseCode = {
  INTERNAL: 4000,
  AUTH_FAILED: 4001,
  TOKEN_EXPIRED: 4002,
  HANDSHAKE_FAILED: 4003,
  POLICY: 4008,
  SLOW_CONSUMER: 4009,
  IDLE_TIMEOUT: 4010,
  DRAINING: 4011,
  HANDSHAKE_TIMEOUT: 4012,
  REPLACED: 4013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What each close code means and whether a client should reconnect on its own. */
export const closeCodeInfo: Readonly<
  Record<CloseCode, { description: string; reconnect: boolean }>
> = {
  4000: { description: "Internal server error.", reconnect: true },
  4001: { description: "Authentication failed (bad token).", reconnect: false },
  4002: { description: "Token expired; reconnect with a fresh token.", reconnect: true },
  4003: { description: "Handshake failed: first frame was not a valid hello.", reconnect: false },
  4008: { description: "Policy violation: too many rejected frames.", reconnect: true },
  4009: { description: "Slow consumer: outgoing buffer overflowed.", reconnect: true },
  4010: { description: "Idle timeout: no frame within the idle timeout.", reconnect: true },
  4011: { description: "Gateway draining; reconnect to another gateway.", reconnect: true },
  4012: { description: "Handshake timeout: no hello in time.", reconnect: true },
  4013: { description: "Replaced by a newer connection of the same session.", reconnect: false },
};

/** Whatever of the offending frame could be read, so an error frame can point at it. */
export interface ErrorContext {
  kind?: string;
  ref?: number;
  room?: RoomRef;
  seq?: number;
}

export interface ProtocolErrorOptions {
  cause?: unknown;
  context?: ErrorContext;
}

/** Base of every protocol failure; `code` is stable and safe to show a client. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  readonly code: ErrorCode;
  context: ErrorContext;

  constructor(code: ErrorCode, message: string, options: ProtocolErrorOptions = {}) {
    // These errors describe bad input, not a fault in our code: a stack is
    // noise, and capturing one was most of the cost of rejecting a frame.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.context = options.context ?? {};
  }
}

/** Not MessagePack, not one map, trailing bytes, extension types, too deep, or no `k`. */
export class MalformedFrameError extends ProtocolError {
  override name = "MalformedFrameError";
  constructor(message: string, options?: ProtocolErrorOptions) {
    super(ErrorCode.BAD_FRAME, message, options);
  }
}

/** `k` is a string but names no kind of this frame family. */
export class UnknownFrameError extends ProtocolError {
  override name = "UnknownFrameError";
  readonly kind: string;
  constructor(kind: string, options?: ProtocolErrorOptions) {
    super(
      ErrorCode.UNKNOWN_KIND,
      `unknown frame kind ${JSON.stringify(kind.slice(0, 32))}`,
      options,
    );
    this.kind = kind;
  }
}

/** Rejected on its byte length alone, before any decoding. */
export class FrameTooLargeError extends ProtocolError {
  override name = "FrameTooLargeError";
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number, options?: ProtocolErrorOptions) {
    super(ErrorCode.FRAME_TOO_LARGE, `frame of ${size} bytes exceeds ${limit} bytes`, options);
    this.size = size;
    this.limit = limit;
  }
}

/** A field is missing, mistyped or out of range; `field` is its path, e.g. `room.id`. */
export class InvalidFieldError extends ProtocolError {
  override name = "InvalidFieldError";
  readonly field: string;
  constructor(field: string, expected: string, options?: ProtocolErrorOptions) {
    super(ErrorCode.INVALID_FIELD, `${field}: expected ${expected}`, options);
    this.field = field;
  }
}

/**
 * Turns a received `error` frame or `err` reply back into an Error. Remote
 * errors are always the base class: switch on `code`, not on `instanceof`.
 */
export function errorFromFrame(frame: {
  code: ErrorCode;
  message: string;
  ref?: number;
  room?: RoomRef;
  seq?: number;
}): ProtocolError {
  const context: ErrorContext = {};
  if (frame.ref !== undefined) context.ref = frame.ref;
  if (frame.room !== undefined) context.room = frame.room;
  if (frame.seq !== undefined) context.seq = frame.seq;
  return new ProtocolError(frame.code, frame.message, { context });
}
