/** Validators of client ↔ gateway frames, one per kind. */
import {
  ClientKind,
  LeaveReason,
  PROTOCOL_VERSION,
  ResumeMode,
  ServerKind,
  SystemEvent,
  type ClientFrame,
  type ConnectionLimits,
  type MemberView,
  type ReplayEvent,
  type ServerFrame,
} from "./client-frames";
import { ErrorCode, InvalidFieldError } from "./errors";
import {
  asBoolean,
  asClientValue,
  asList,
  asMap,
  asNumber,
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
import { isDisplayName, isMemberId, isUserId, patterns } from "./identifiers";
import type { Value } from "./value";

export type Validator<F> = (raw: Raw) => F;

/**
 * One validator per kind `K`, each typed by its frame in the union `F`: a
 * kind added to an `as const` kind object without its validator, or without
 * its frame type (its validator would have to return `never`), does not
 * compile.
 */
export type Validators<K extends string, F extends { k: string }> = {
  readonly [P in K]: Validator<Extract<F, { k: P }>>;
};

/** The decoders' lookup: own keys only, so a frame's `k` of `"__proto__"` finds nothing. */
export function validatorMap<K extends string, F extends { k: string }>(
  validators: Validators<K, F>,
): ReadonlyMap<string, Validator<F>> {
  return new Map(Object.entries<Validator<F>>(validators));
}

const errorCodes = Object.values(ErrorCode);
const resumeModes = Object.values(ResumeMode);
const leaveReasons = Object.values(LeaveReason);

export const asMemberId = (v: unknown, path: string): string =>
  asString(v, path, isMemberId, "a member id <user>:<session>");

export const asErrorCode = (v: unknown, path: string): ErrorCode => asOneOf(v, path, errorCodes);

export const asResumeMode = (v: unknown, path: string): ResumeMode => asOneOf(v, path, resumeModes);

export const asLeaveReason = (v: unknown, path: string): LeaveReason =>
  asOneOf(v, path, leaveReasons);

export function asMemberView(v: unknown, path: string): MemberView {
  const raw = asMap(v, path);
  return {
    id: asMemberId(field(raw, "id"), `${path}.id`),
    user: asString(field(raw, "user"), `${path}.user`, isUserId, "a user id"),
    name: asString(field(raw, "name"), `${path}.name`, isDisplayName, "a display name"),
    joinedAt: asUint(field(raw, "joinedAt"), `${path}.joinedAt`),
  };
}

export function asMembers(v: unknown, path: string): MemberView[] {
  return asList(v, path).map((item, i) => asMemberView(item, `${path}[${i}]`));
}

export function asLeader(v: unknown, path: string): string | null {
  return optional(v, (id) => asMemberId(id, path)) ?? null;
}

/** Bodies of reserved event types have a fixed shape; other `$` types are left to newer clients. */
export function asEventBody(type: string, v: unknown, path: string): Value {
  const body = asValue(v);
  if (type === SystemEvent.Join) asMemberView(body, path);
  if (type === SystemEvent.Leave) {
    const raw = asMap(body, path);
    asMemberId(field(raw, "id"), `${path}.id`);
    asLeaveReason(field(raw, "reason"), `${path}.reason`);
  }
  if (type === SystemEvent.Leader) {
    const raw = asMap(body, path);
    asLeader(field(raw, "id"), `${path}.id`);
    asLeader(field(raw, "prev"), `${path}.prev`);
  }
  return body;
}

export function asEventType(v: unknown, path: string): string {
  return asPattern(v, path, patterns.eventType);
}

/** Replayed events in strictly increasing seq order, none after `seq`. */
export function asReplay(v: unknown, path: string, seq: number): ReplayEvent[] {
  let last = -1;
  return asList(v, path).map((item, i) => {
    const at = `${path}[${i}]`;
    const raw = asMap(item, at);
    const eventSeq = asPositive(field(raw, "seq"), `${at}.seq`);
    if (eventSeq <= last || eventSeq > seq)
      throw new InvalidFieldError(`${at}.seq`, "increasing seqs up to seq");
    last = eventSeq;
    const type = asEventType(field(raw, "type"), `${at}.type`);
    return { seq: eventSeq, type, body: asEventBody(type, field(raw, "body"), `${at}.body`) };
  });
}

/** `since` and `epoch` name one point of one room history, so they come together. */
export function asResumePoint(raw: Raw): { since?: number; epoch?: number } {
  const since = optional(field(raw, "since"), (v) => asUint(v, "since"));
  const epoch = optional(field(raw, "epoch"), (v) => asPositive(v, "epoch"));
  if ((since === undefined) !== (epoch === undefined)) {
    throw new InvalidFieldError(
      since === undefined ? "since" : "epoch",
      "since and epoch together",
    );
  }
  return { since, epoch };
}

/** The snapshot/replay part shared by the client `joined` and the internal `joined` reply. */
export function asJoinedBody(raw: Raw) {
  const seq = asUint(field(raw, "seq"), "seq");
  const mode = asResumeMode(field(raw, "mode"), "mode");
  const replay = optional(field(raw, "replay"), (v) => asReplay(v, "replay", seq));
  if ((mode === ResumeMode.Replay) !== (replay !== undefined)) {
    throw new InvalidFieldError("replay", "present exactly when mode is replay");
  }
  const events = optional(field(raw, "events"), (v) => asReplay(v, "events", seq));
  if (events !== undefined && mode !== ResumeMode.Snapshot) {
    throw new InvalidFieldError("events", "only with mode snapshot");
  }
  return {
    epoch: asPositive(field(raw, "epoch"), "epoch"),
    seq,
    mode,
    state: optional(field(raw, "state"), asValue),
    members: asMembers(field(raw, "members"), "members"),
    leader: asLeader(field(raw, "leader"), "leader"),
    replay,
    events,
  };
}

const asInputType = (v: unknown, path: string) => asPattern(v, path, patterns.inputType);
const asProcessId = (v: unknown, path: string) => asPattern(v, path, patterns.processId);
const asRef = (raw: Raw) => asUint(field(raw, "ref"), "ref");
const asOptionalRef = (raw: Raw) => optional(field(raw, "ref"), (v) => asUint(v, "ref"));
const asAfter = (raw: Raw) => optional(field(raw, "after"), (v) => asUint(v, "after"));
// The shape only: what the token says, and its length (at most 8,192
// characters), is the verifier's to judge, answered AUTH_FAILED (§3).
const isToken = (s: string) => s.length > 0;

function asVersion(v: unknown): number {
  if (v !== PROTOCOL_VERSION) {
    throw new InvalidFieldError("v", `protocol version ${PROTOCOL_VERSION}`);
  }
  return v;
}

export const clientValidators: Validators<ClientKind, ClientFrame> = {
  [ClientKind.Hello]: (raw) => ({
    k: ClientKind.Hello,
    v: asVersion(field(raw, "v")),
    token: asString(field(raw, "token"), "token", isToken, "a non-empty string"),
    session: asPattern(field(raw, "session"), "session", patterns.session),
  }),
  [ClientKind.Join]: (raw) =>
    compact({
      k: ClientKind.Join,
      ref: asRef(raw),
      room: asRoom(field(raw, "room"), "room"),
      ...asResumePoint(raw),
    }),
  [ClientKind.Leave]: (raw) => ({
    k: ClientKind.Leave,
    ref: asRef(raw),
    room: asRoom(field(raw, "room"), "room"),
  }),
  [ClientKind.Input]: (raw) => ({
    k: ClientKind.Input,
    room: asRoom(field(raw, "room"), "room"),
    seq: asPositive(field(raw, "seq"), "seq"),
    type: asInputType(field(raw, "type"), "type"),
    body: asClientValue(field(raw, "body"), "body"),
  }),
  [ClientKind.Ping]: (raw) => ({ k: ClientKind.Ping, t: asNumber(field(raw, "t"), "t") }),
};

function asConnectionLimits(v: unknown): ConnectionLimits {
  const raw = asMap(v, "limits");
  const read = (key: string) => asPositive(field(raw, key), `limits.${key}`);
  const readOptional = (key: string) =>
    optional(field(raw, key), (value) => asPositive(value, `limits.${key}`));
  return compact({
    maxFrameBytes: read("maxFrameBytes"),
    maxRooms: read("maxRooms"),
    ratePerSec: read("ratePerSec"),
    burst: read("burst"),
    idleTimeoutMs: readOptional("idleTimeoutMs"),
    maxErrorsPerMinute: readOptional("maxErrorsPerMinute"),
    maxDepth: readOptional("maxDepth"),
  });
}

export const serverValidators: Validators<ServerKind, ServerFrame> = {
  [ServerKind.Welcome]: (raw) => ({
    k: ServerKind.Welcome,
    v: asPositive(field(raw, "v"), "v"),
    conn: asProcessId(field(raw, "conn"), "conn"),
    member: asMemberId(field(raw, "member"), "member"),
    gateway: asProcessId(field(raw, "gateway"), "gateway"),
    limits: asConnectionLimits(field(raw, "limits")),
    heartbeatMs: asPositive(field(raw, "heartbeatMs"), "heartbeatMs"),
  }),
  [ServerKind.Joined]: (raw) =>
    compact({
      k: ServerKind.Joined,
      ref: asOptionalRef(raw),
      room: asRoom(field(raw, "room"), "room"),
      ...asJoinedBody(raw),
    }),
  [ServerKind.Left]: (raw) =>
    compact({
      k: ServerKind.Left,
      ref: asOptionalRef(raw),
      room: asRoom(field(raw, "room"), "room"),
      reason: optional(field(raw, "reason"), (v) => asLeaveReason(v, "reason")),
    }),
  [ServerKind.Ack]: (raw) =>
    compact({
      k: ServerKind.Ack,
      room: asRoom(field(raw, "room"), "room"),
      seq: asPositive(field(raw, "seq"), "seq"),
      result: optional(field(raw, "result"), asValue),
      dup: optional(field(raw, "dup"), (v) => asBoolean(v, "dup")),
    }),
  [ServerKind.Event]: (raw) => {
    const type = asEventType(field(raw, "type"), "type");
    return {
      k: ServerKind.Event,
      room: asRoom(field(raw, "room"), "room"),
      seq: asPositive(field(raw, "seq"), "seq"),
      type,
      body: asEventBody(type, field(raw, "body"), "body"),
    };
  },
  [ServerKind.Error]: (raw) =>
    compact({
      k: ServerKind.Error,
      code: asErrorCode(field(raw, "code"), "code"),
      message: asString(field(raw, "message"), "message"),
      ref: asOptionalRef(raw),
      room: optional(field(raw, "room"), (v) => asRoom(v, "room")),
      seq: optional(field(raw, "seq"), (v) => asPositive(v, "seq")),
      after: asAfter(raw),
    }),
  [ServerKind.Reconnect]: (raw) =>
    compact({
      k: ServerKind.Reconnect,
      reason: asString(field(raw, "reason"), "reason"),
      after: asAfter(raw),
    }),
  [ServerKind.Pong]: (raw) => ({ k: ServerKind.Pong, t: asNumber(field(raw, "t"), "t") }),
};
