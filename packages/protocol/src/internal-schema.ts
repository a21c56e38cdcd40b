/** Validators of gateway ↔ room actor frames (NATS), one per kind and family. */
import {
  asErrorCode,
  asEventType,
  asJoinedBody,
  asLeaveReason,
  asMemberId,
  asResumePoint,
  type Validators,
} from "./client-schema";
import {
  asBoolean,
  asBytes,
  asList,
  asMap,
  asOneOf,
  asPattern,
  asPositive,
  asRoom,
  asString,
  asUint,
  asValue,
  compact,
  field,
  optional,
  type Raw,
} from "./fields";
import { isDisplayName, isUserId, patterns } from "./identifiers";
import {
  InternalKind,
  type DownNotice,
  type ErrReply,
  type MemberInfo,
  type PlaceReply,
  type PlaceRequest,
  type RoomEvent,
  type RoomReply,
  type RoomRequest,
} from "./internal-frames";
import { ProcessRole } from "./names";

const asProcessId = (v: unknown, path: string) => asPattern(v, path, patterns.processId);
const processRoles = Object.values(ProcessRole);

function asMemberInfo(v: unknown, path: string): MemberInfo {
  const raw = asMap(v, path);
  const read = (key: string) => asProcessId(field(raw, key), `${path}.${key}`);
  return {
    id: asMemberId(field(raw, "id"), `${path}.id`),
    user: asString(field(raw, "user"), `${path}.user`, isUserId, "a user id"),
    name: asString(field(raw, "name"), `${path}.name`, isDisplayName, "a display name"),
    gateway: read("gateway"),
    gatewayEpoch: read("gatewayEpoch"),
    conn: read("conn"),
  };
}

function asErr(raw: Raw): ErrReply {
  return compact({
    k: InternalKind.Err,
    code: asErrorCode(field(raw, "code"), "code"),
    message: asString(field(raw, "message"), "message"),
    after: optional(field(raw, "after"), (v) => asUint(v, "after")),
  });
}

export const roomRequestValidators: Validators<RoomRequest["k"], RoomRequest> = {
  [InternalKind.Join]: (raw) =>
    compact({
      k: InternalKind.Join,
      member: asMemberInfo(field(raw, "member"), "member"),
      ...asResumePoint(raw),
    }),
  [InternalKind.Leave]: (raw) =>
    compact({
      k: InternalKind.Leave,
      member: asMemberId(field(raw, "member"), "member"),
      conn: asProcessId(field(raw, "conn"), "conn"),
      reason: optional(field(raw, "reason"), (v) => asLeaveReason(v, "reason")),
    }),
  [InternalKind.Input]: (raw) => ({
    k: InternalKind.Input,
    member: asMemberId(field(raw, "member"), "member"),
    seq: asPositive(field(raw, "seq"), "seq"),
    type: asPattern(field(raw, "type"), "type", patterns.inputType),
    body: asValue(field(raw, "body")),
  }),
};

export const roomReplyValidators: Validators<RoomReply["k"], RoomReply> = {
  [InternalKind.Joined]: (raw) => compact({ k: InternalKind.Joined, ...asJoinedBody(raw) }),
  [InternalKind.Left]: () => ({ k: InternalKind.Left }),
  [InternalKind.Acked]: (raw) =>
    compact({
      k: InternalKind.Acked,
      seq: asPositive(field(raw, "seq"), "seq"),
      result: optional(field(raw, "result"), asValue),
      dup: optional(field(raw, "dup"), (v) => asBoolean(v, "dup")),
    }),
  [InternalKind.Err]: asErr,
};

export const roomEventValidators: Validators<RoomEvent["k"], RoomEvent> = {
  [InternalKind.Event]: (raw) => {
    return compact({
      k: InternalKind.Event,
      epoch: asPositive(field(raw, "epoch"), "epoch"),
      seq: asPositive(field(raw, "seq"), "seq"),
      type: asEventType(field(raw, "type"), "type"),
      frame: asBytes(field(raw, "frame"), "frame"),
      to: optional(field(raw, "to"), (v) =>
        asList(v, "to").map((id, i) => asMemberId(id, `to[${i}]`)),
      ),
    });
  },
};

export const placeRequestValidators: Validators<PlaceRequest["k"], PlaceRequest> = {
  [InternalKind.Place]: (raw) =>
    compact({
      k: InternalKind.Place,
      room: asRoom(field(raw, "room"), "room"),
      fresh: optional(field(raw, "fresh"), (v) => asBoolean(v, "fresh")),
    }),
};

export const placeReplyValidators: Validators<PlaceReply["k"], PlaceReply> = {
  [InternalKind.Placed]: (raw) => ({
    k: InternalKind.Placed,
    node: asProcessId(field(raw, "node"), "node"),
    epoch: asPositive(field(raw, "epoch"), "epoch"),
  }),
  [InternalKind.Err]: asErr,
};

export const downNoticeValidators: Validators<DownNotice["k"], DownNotice> = {
  [InternalKind.Down]: (raw) =>
    compact({
      k: InternalKind.Down,
      role: asOneOf(field(raw, "role"), "role", processRoles),
      id: asProcessId(field(raw, "id"), "id"),
      epoch: asProcessId(field(raw, "epoch"), "epoch"),
      reason: optional(field(raw, "reason"), (v) => asString(v, "reason")),
    }),
};
