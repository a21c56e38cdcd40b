/**
 * @rookery/protocol/internal: what Rookery's own packages share and users do
 * not need: the gateway ↔ room actor frames (NATS) and their decoders, the
 * KV key helpers, the error budget. Not a stable API; applications use
 * `@rookery/protocol`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { decodeRoomReply, InternalKind } from "@rookery/protocol/internal";
 *
 * const reply = decodeRoomReply(msg.data);
 * if (reply.ok && reply.frame.k === InternalKind.Acked) console.log(reply.frame.seq);
 * ```
 */
export * from "./index";

export { InternalKind, RoomReplyKind } from "./internal-frames";
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
  RoomReplyTo,
  RoomRequest,
} from "./internal-frames";

export {
  decodeDownNotice,
  decodePlaceReply,
  decodePlaceRequest,
  decodeRoomEvent,
  decodeRoomReply,
  decodeRoomRequest,
} from "./codec";
export type { AnyFrame } from "./codec";

export { errorBudgetCodes } from "./errors";
export { escapeKeyToken, unescapeKeyToken } from "./identifiers";
export {
  leaseKey,
  nodeKey,
  parseLeaseKey,
  parsePresenceKey,
  presenceKey,
  presenceRoomFilter,
  stateKey,
} from "./names";
