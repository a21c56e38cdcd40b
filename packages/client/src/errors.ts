import { ErrorCode, ProtocolError } from "@rookery/protocol";

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
