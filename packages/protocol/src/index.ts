/**
 * @rookery/protocol — the wire protocol of Rookery: frame types, the one
 * MessagePack codec (validating, never throwing on untrusted input), error and
 * close codes, limits, and every NATS subject / KV bucket name.
 * The full specification is docs/protocol.md. This entry is for clients and
 * operators; the gateway ↔ room frames and KV key helpers that only Rookery's
 * own packages use are in `@rookery/protocol/internal`.
 *
 * @example
 * ```ts
 * import { ClientKind, decodeClientFrame, encodeFrame, errorFrame, names } from "@rookery/protocol";
 *
 * const bytes = encodeFrame({ k: ClientKind.Ping, t: Date.now() });
 * const decoded = decodeClientFrame(bytes);
 * if (decoded.ok) console.log(decoded.frame.k); // "ping"
 * else socket.send(encodeFrame(errorFrame(decoded.error)));
 *
 * names("test1").subjects.roomIn("chess", "g42"); // "test1.room.chess.g42.in"
 * ```
 */

export {
  ClientKind,
  HttpPath,
  LeaveReason,
  PROTOCOL_VERSION,
  ResumeMode,
  ServerKind,
  SystemEvent,
} from "./client-frames";
export type {
  AckFrame,
  ClientFrame,
  ConnectionLimits,
  DiscoverResponse,
  ErrorFrame,
  EventFrame,
  HelloFrame,
  InputFrame,
  JoinedFrame,
  JoinEventBody,
  JoinFrame,
  LeaderEventBody,
  LeaveEventBody,
  LeaveFrame,
  LeftFrame,
  MemberView,
  PingFrame,
  PongFrame,
  ReconnectFrame,
  ReplayEvent,
  ServerFrame,
  TokenClaims,
  WelcomeFrame,
} from "./client-frames";

export { decodeClientFrame, decodeServerFrame, encodeFrame, errorFrame } from "./codec";
export type { DecodeResult } from "./codec";

export {
  CloseCode,
  closeCodeInfo,
  ErrorCode,
  errorDescriptions,
  errorFromFrame,
  FrameTooLargeError,
  InvalidFieldError,
  MalformedFrameError,
  ProtocolError,
  UnknownFrameError,
} from "./errors";
export type { ErrorContext, ProtocolErrorOptions } from "./errors";

export {
  formatRoom,
  isDisplayName,
  isEventType,
  isInputType,
  isMemberId,
  isProcessId,
  isRoomId,
  isRoomRef,
  isRoomType,
  isSessionId,
  isUserId,
  MAX_NAME_LENGTH,
  MAX_USER_LENGTH,
  memberId,
  parseMemberId,
  parseRoom,
  patterns,
  roomAllowed,
} from "./identifiers";
export type { RoomRef } from "./identifiers";

export { DEFAULT_DECODE_LIMITS, defaultProtocolLimits, resolveProtocolLimits } from "./limits";
export type { DecodeLimits, ProtocolLimits, ResolvedProtocolLimits } from "./limits";

export { DEFAULT_PREFIX, names, ProcessRole } from "./names";
export type { Names } from "./names";

export { isValue } from "./value";
export type { Value } from "./value";
