import { ErrorCode, ProtocolError, type ErrorContext } from "@rookery/protocol";

/**
 * Errors the client raises itself. Errors the server sends (`error` frames)
 * reject as `ProtocolError` from `@rookery/protocol`, with the server's code.
 */

/** The offline input queue is full: the input was not queued (never dropped silently). */
export class QueueFullError extends ProtocolError {
  override name = "QueueFullError";
  constructor(limit: number) {
    super(ErrorCode.QUEUE_FULL, `the offline input queue is full (${limit} inputs)`);
  }
}

/** The client was closed (by the application, or by a close code that forbids reconnecting). */
export class ClientClosedError extends Error {
  readonly code = "CLIENT_CLOSED";
  override readonly name = "ClientClosedError";
}

/** No gateway could be found through discovery. */
export class DiscoveryError extends Error {
  readonly code = "DISCOVERY_FAILED";
  override readonly name = "DiscoveryError";
}

/** The room was left (by the application or the server) while a request for it was pending. */
export class RoomLeftError extends Error {
  readonly code = "ROOM_LEFT";
  override readonly name = "RoomLeftError";
}

/** The connection dropped while a request waited for its answer (the client reconnects on its own). */
export class ConnectionLostError extends Error {
  readonly code = "CONNECTION_LOST";
  override readonly name = "ConnectionLostError";
}

/**
 * The room no longer knows the input's outcome: its seq fell below the room's
 * dedupe window (docs/protocol.md §6). Final; this send had no effect.
 */
export class SeqExpiredError extends ProtocolError {
  override name = "SeqExpiredError";
  constructor(
    readonly seq: number,
    message: string,
    context: ErrorContext = {},
  ) {
    super(ErrorCode.SEQ_EXPIRED, message, { context: { ...context, seq } });
  }
}

/**
 * No outcome for an input within `inputTimeoutMs` of its first send (the room
 * stayed unavailable, or no connection could be made): it may or may not have
 * taken effect. `cause` is the last "outcome unknown" error, if any.
 */
export class InputTimeoutError extends ProtocolError {
  override name = "InputTimeoutError";
  constructor(
    readonly seq: number,
    timeoutMs: number,
    cause?: Error,
    context: ErrorContext = {},
  ) {
    super(
      ErrorCode.ROOM_UNAVAILABLE,
      `no outcome for input ${seq} within ${timeoutMs} ms: it may or may not have taken effect`,
      { cause, context: { ...context, seq } },
    );
  }
}
