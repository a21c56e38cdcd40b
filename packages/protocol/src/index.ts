/**
 * @rookery/protocol — the wire protocol of Rookery: frame types, the one
 * MessagePack codec (validating, never throwing on untrusted input), error and
 * close codes, limits, and every NATS subject / KV bucket name.
 * The full specification is docs/protocol.md.
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

export { InternalKind } from "./internal-frames";
export type {
  DownNotice,
  ErrReply,
  InternalFrame,
  MemberInfo,
  PlacedReply,
  PlaceReply,
  PlaceRequest,
  RoomAckedReply,
  RoomEvent,
  RoomInputRequest,
  RoomJoinedReply,
  RoomJoinRequest,
  RoomLeaveRequest,
  RoomLeftReply,
  RoomReply,
  RoomRequest,
} from "./internal-frames";

export {
  decodeClientFrame,
  decodeDownNotice,
  decodePlaceReply,
  decodePlaceRequest,
  decodeRoomEvent,
  decodeRoomReply,
  decodeRoomRequest,
  decodeServerFrame,
  encodeFrame,
  errorFrame,
} from "./codec";
export type { AnyFrame, DecodeResult } from "./codec";

export {
  CloseCode,
  closeCodeInfo,
  ErrorCode,
  errorBudgetCodes,
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
  escapeKeyToken,
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
  unescapeKeyToken,
} from "./identifiers";
export type { RoomRef } from "./identifiers";

export { DEFAULT_DECODE_LIMITS, defaultProtocolLimits, resolveProtocolLimits } from "./limits";
export type { DecodeLimits, ProtocolLimits, ResolvedProtocolLimits } from "./limits";

export {
  DEFAULT_PREFIX,
  leaseKey,
  names,
  nodeKey,
  presenceKey,
  presenceRoomFilter,
  ProcessRole,
  stateKey,
} from "./names";
export type { Names } from "./names";

export { isValue } from "./value";
export type { Value } from "./value";
