/**
 * Protocol limits, defined once so gateways, nodes and clients agree. Gateways
 * advertise the per-connection ones to clients in `welcome.limits`.
 */
export interface ProtocolLimits {
  /** Largest message a client may send, in bytes. @default 65536 (64 KiB) */
  maxFrameBytes?: number;
  /** Largest message a gateway sends to a client, in bytes. @default 1048576 (1 MiB) */
  maxServerFrameBytes?: number;
  /** Largest internal (NATS) frame, in bytes; NATS's default max payload. @default 1048576 */
  maxInternalFrameBytes?: number;
  /** Deepest nesting of maps and arrays; the frame's own map is depth 1. @default 32 */
  maxDepth?: number;
  /** Rooms one connection may be in at once. @default 16 */
  maxRooms?: number;
  /** Sustained frames per second per connection (token-bucket refill rate). @default 50 */
  ratePerSec?: number;
  /** Token-bucket size: frames a connection may send at once after being quiet. @default 100 */
  burst?: number;
  /** A client sends a frame (`ping` when idle) at least this often, in ms. @default 15000 */
  heartbeatMs?: number;
  /** A gateway closes (4010) a connection silent for this long, in ms. @default 45000 */
  idleTimeoutMs?: number;
  /** A gateway closes (4012) a connection with no valid `hello` after this long, in ms. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Rejected frames per minute before a gateway closes with 4008. @default 30 */
  maxErrorsPerMinute?: number;
  /** Events a room keeps for resume; further behind gets a snapshot. @default 512 */
  replayEvents?: number;
}

export type ResolvedProtocolLimits = Required<ProtocolLimits>;

/** The limits a decoder needs. */
export type DecodeLimits = Pick<
  ResolvedProtocolLimits,
  "maxFrameBytes" | "maxServerFrameBytes" | "maxInternalFrameBytes" | "maxDepth"
>;

/** A fresh object holding every default. */
export function defaultProtocolLimits(): ResolvedProtocolLimits {
  return {
    maxFrameBytes: 64 * 1024,
    maxServerFrameBytes: 1024 * 1024,
    maxInternalFrameBytes: 1024 * 1024,
    maxDepth: 32,
    maxRooms: 16,
    ratePerSec: 50,
    burst: 100,
    heartbeatMs: 15_000,
    idleTimeoutMs: 45_000,
    handshakeTimeoutMs: 10_000,
    maxErrorsPerMinute: 30,
    replayEvents: 512,
  };
}

/** Fills in defaults and checks every value is a positive integer; throws RangeError otherwise. */
export function resolveProtocolLimits(limits: ProtocolLimits = {}): ResolvedProtocolLimits {
  const resolved = defaultProtocolLimits();
  for (const key of Object.keys(resolved) as (keyof ResolvedProtocolLimits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`protocol limit ${key} must be a positive integer, got ${value}`);
    }
    resolved[key] = value;
  }
  if (resolved.idleTimeoutMs <= resolved.heartbeatMs) {
    throw new RangeError("protocol limit idleTimeoutMs must exceed heartbeatMs");
  }
  return resolved;
}

/** Shared defaults for decoders called without limits; frozen so nobody edits them. */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze(defaultProtocolLimits());
