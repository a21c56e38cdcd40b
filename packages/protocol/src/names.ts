import { InvalidFieldError } from "./errors";
import {
  escapeKeyToken,
  isMemberId,
  isProcessId,
  isRoomId,
  isRoomType,
  patterns,
  unescapeKeyToken,
  type RoomRef,
} from "./identifiers";

/**
 * Every NATS subject, KV bucket, stream and queue-group name, derived from one
 * prefix so tests (or tenants) sharing a server never see each other.
 */
export interface Names {
  prefix: string;
  subjects: {
    /** Requests to a room actor (join, leave, input): `<p>.room.<type>.<id>.in`. */
    roomIn(type: string, id: string): string;
    /** Events a room publishes: `<p>.room.<type>.<id>.ev`. */
    roomEvents(type: string, id: string): string;
    /** Every room inbox, for monitoring: `<p>.room.*.*.in`. */
    allRoomsIn: string;
    /** Every room's events, for monitoring: `<p>.room.*.*.ev`. */
    allRoomEvents: string;
    /** Placement requests for a room type (queue group {@link Names.queues}): `<p>.place.<type>`. */
    place(type: string): string;
    /** Process-down notices: `<p>.sys.down`. */
    processDown: string;
    /** A room's journal entries in the journal stream: `<p>.journal.<type>.<id>`. */
    journal(type: string, id: string): string;
    /** The journal stream's subject filter: `<p>.journal.>`. */
    allJournals: string;
    /**
     * Operator control of one node (drain, undrain, move; JSON request/reply,
     * admin user only): `<p>.ctl.<nodeId>`.
     */
    control(nodeId: string): string;
  };
  buckets: { nodes: string; leases: string; presence: string; state: string };
  streams: { journal: string };
  queues: { place: string };
}

export const DEFAULT_PREFIX = "rk";

/** All names under `prefix` (default `rk`); throws InvalidFieldError for a bad prefix. */
export function names(prefix: string = DEFAULT_PREFIX): Names {
  if (!patterns.prefix.test(prefix)) throw new InvalidFieldError("prefix", "[A-Za-z0-9_-]{1,48}");
  const room = (type: string, id: string) => `${prefix}.room.${roomTokens(type, id)}`;
  return {
    prefix,
    subjects: {
      roomIn: (type, id) => `${room(type, id)}.in`,
      roomEvents: (type, id) => `${room(type, id)}.ev`,
      allRoomsIn: `${prefix}.room.*.*.in`,
      allRoomEvents: `${prefix}.room.*.*.ev`,
      place: (type) => `${prefix}.place.${checkedType(type)}`,
      processDown: `${prefix}.sys.down`,
      journal: (type, id) => `${prefix}.journal.${roomTokens(type, id)}`,
      allJournals: `${prefix}.journal.>`,
      control: (nodeId) => `${prefix}.ctl.${checkedProcess(nodeId, "node")}`,
    },
    buckets: {
      nodes: `${prefix}_nodes`,
      leases: `${prefix}_leases`,
      presence: `${prefix}_presence`,
      state: `${prefix}_state`,
    },
    streams: { journal: `${prefix}_journal` },
    queues: { place: `${prefix}_place` },
  };
}

/** The process roles that heartbeat in the nodes bucket. */
export const ProcessRole = { Node: "node", Gateway: "gateway" } as const;
export type ProcessRole = (typeof ProcessRole)[keyof typeof ProcessRole];

/** Nodes bucket key of a process: `node.<id>` or `gateway.<id>`. */
export function nodeKey(role: ProcessRole, id: string): string {
  if (role !== ProcessRole.Node && role !== ProcessRole.Gateway) {
    throw new InvalidFieldError("role", '"node" or "gateway"');
  }
  return `${role}.${checkedProcess(id, "id")}`;
}

/** Leases bucket key of a room: `<type>.<id>`. */
export function leaseKey(type: string, id: string): string {
  return roomTokens(type, id);
}

/**
 * The room of a leases bucket key, the inverse of {@link leaseKey}: undefined
 * for anything `leaseKey` could not have built (a duty key `=duty.<name>`, a
 * presence key, a malformed one); it never throws.
 */
export function parseLeaseKey(key: string): RoomRef | undefined {
  const tokens = key.split(".");
  if (tokens.length !== 2) return undefined;
  const [type, id] = tokens as [string, string];
  return isRoomType(type) && isRoomId(id) ? { type, id } : undefined;
}

/** State bucket key of a room's snapshot: `<type>.<id>`. */
export function stateKey(type: string, id: string): string {
  return roomTokens(type, id);
}

/**
 * Presence bucket key of a member: `<type>.<id>.<escaped member>`. Member ids
 * contain `:` (and whatever the user id holds), which KV keys do not allow, so
 * the member is escaped with {@link escapeKeyToken}: `alice:s1…` → `alice=3As1…`.
 */
export function presenceKey(type: string, id: string, member: string): string {
  if (!isMemberId(member)) throw new InvalidFieldError("member", "a member id <user>:<session>");
  return `${roomTokens(type, id)}.${escapeKeyToken(member)}`;
}

/**
 * The room and member of a presence bucket key, the inverse of
 * {@link presenceKey} (the member unescaped as it escapes it): undefined for
 * anything `presenceKey` could not have built; it never throws.
 */
export function parsePresenceKey(key: string): (RoomRef & { member: string }) | undefined {
  const tokens = key.split(".");
  if (tokens.length !== 3) return undefined;
  const [type, id, escaped] = tokens as [string, string, string];
  const member = unescapeKeyToken(escaped);
  if (!isRoomType(type) || !isRoomId(id) || !isMemberId(member)) return undefined;
  return { type, id, member };
}

/** Watch filter for every presence key of one room: `<type>.<id>.*`. */
export function presenceRoomFilter(type: string, id: string): string {
  return `${roomTokens(type, id)}.*`;
}

function roomTokens(type: string, id: string): string {
  return `${checkedType(type)}.${checkedId(id)}`;
}

function checkedType(type: string): string {
  if (!isRoomType(type)) throw new InvalidFieldError("room.type", patterns.roomType.source);
  return type;
}

function checkedId(id: string): string {
  if (!isRoomId(id)) throw new InvalidFieldError("room.id", patterns.roomId.source);
  return id;
}

function checkedProcess(value: string, field: string): string {
  if (!isProcessId(value)) throw new InvalidFieldError(field, patterns.processId.source);
  return value;
}
