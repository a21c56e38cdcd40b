import { Packr } from "msgpackr";
import { ProcessRole } from "@rookery/protocol";
import { InvalidRecordError } from "./errors";

/**
 * Values stored in the cluster buckets, MessagePack encoded. Every decoder
 * validates shape and types: a corrupted or foreign value becomes an
 * InvalidRecordError, never a crash of whoever reads it.
 */
export { ProcessRole };

/** `rk_nodes` key `<role>.<id>`: one live process incarnation. */
export interface ProcessRecord {
  id: string;
  epoch: string;
  role: ProcessRole;
  region: string;
  url: string;
  load: number;
  started: number;
}

/** `rk_leases` key `<type>.<id>`: who owns a room, and the room's fencing epoch. */
export interface LeaseRecord {
  /** Owner process id, or null when the lease was released (free). */
  owner: string | null;
  ownerEpoch: string | null;
  roomEpoch: number;
  at: number;
}

/** `rk_nodes` key `duty.<name>`: holder of a cluster singleton duty. */
export interface DutyRecord {
  holder: string | null;
  epoch: string | null;
  at: number;
}

/** `rk_presence` key `<type>.<id>.<member>`: mirror of one room member. */
export interface PresenceRecord {
  member: string;
  user: string;
  name: string;
  gateway: string;
  gatewayEpoch: string;
  conn: string;
  joinedAt: number;
  leader: boolean;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

export function encodeRecord(record: object): Uint8Array {
  return packr.pack(record);
}

type Shape = Record<string, "string" | "number" | "boolean" | "string?" | "role">;

const processShape: Shape = {
  id: "string",
  epoch: "string",
  role: "role",
  region: "string",
  url: "string",
  load: "number",
  started: "number",
};
const leaseShape: Shape = {
  owner: "string?",
  ownerEpoch: "string?",
  roomEpoch: "number",
  at: "number",
};
const dutyShape: Shape = { holder: "string?", epoch: "string?", at: "number" };
const presenceShape: Shape = {
  member: "string",
  user: "string",
  name: "string",
  gateway: "string",
  gatewayEpoch: "string",
  conn: "string",
  joinedAt: "number",
  leader: "boolean",
};

export const decodeProcessRecord = (key: string, bytes: Uint8Array) =>
  decodeShaped<ProcessRecord>(key, bytes, processShape);
export const decodeLeaseRecord = (key: string, bytes: Uint8Array) =>
  decodeShaped<LeaseRecord>(key, bytes, leaseShape);
export const decodeDutyRecord = (key: string, bytes: Uint8Array) =>
  decodeShaped<DutyRecord>(key, bytes, dutyShape);
export const decodePresenceRecord = (key: string, bytes: Uint8Array) =>
  decodeShaped<PresenceRecord>(key, bytes, presenceShape);

/** Decodes any MessagePack value for display (CLI); never throws. */
export function decodeAny(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch {
    return { undecodable: Buffer.from(bytes).toString("base64") };
  }
}

function decodeShaped<T>(key: string, bytes: Uint8Array, shape: Shape): T {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (cause) {
    throw new InvalidRecordError(key, "not MessagePack", { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidRecordError(key, "not a map");
  }
  const record = value as Record<string, unknown>;
  for (const [field, kind] of Object.entries(shape)) {
    if (!fieldMatches(record[field], kind)) {
      throw new InvalidRecordError(key, `field ${field} is not ${kind}`);
    }
  }
  return record as T;
}

function fieldMatches(value: unknown, kind: Shape[string]): boolean {
  switch (kind) {
    case "string?":
      return value === null || typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "role":
      return value === ProcessRole.Node || value === ProcessRole.Gateway;
    default:
      return typeof value === kind;
  }
}
