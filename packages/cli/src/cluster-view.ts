import { decodeAny } from "@rookery/cluster/internal";
import { unescapeKeyToken } from "@rookery/protocol/internal";
import type { BucketReader } from "./buckets";

/** One process as its heartbeat shows it. */
export interface ProcessView {
  id: string;
  role: string;
  region: string;
  load: number;
  epoch: string;
  url: string;
  /** Start time of this incarnation (ms since the epoch). */
  started: number;
  /** When its last heartbeat was written (ms since the epoch). */
  lastBeat: number;
}

export interface MemberView {
  member: string;
  user: string;
  name: string;
  gateway: string;
  leader: boolean;
  joinedAt: number;
}

/** One room with a held lease, and who is in it. */
export interface RoomView {
  /** `<type>/<id>` */
  room: string;
  type: string;
  id: string;
  owner: string;
  ownerEpoch: string;
  roomEpoch: number;
  /** When the owner took the lease (ms since the epoch). */
  since: number;
  /** The owner's incarnation is live (else it died and the room awaits re-homing). */
  ownerLive: boolean;
  members: MemberView[];
  leader: string | null;
}

export interface ClusterSnapshot {
  at: number;
  processes: ProcessView[];
  rooms: RoomView[];
  duties: { duty: string; holder: unknown }[];
}

/** A presence key `<type>.<id>.<escaped member>` as readable text. */
export function decodeKey(key: string): string {
  return key
    .split(".")
    .map((token) => (token.includes("=") ? (unescapeKeyToken(token) ?? token) : token))
    .join(".");
}

/** Processes, held rooms with their members and leader, duties: one read of three buckets. */
export async function readCluster(reader: BucketReader): Promise<ClusterSnapshot> {
  const nodes = await reader.entries("nodes"); // a wrong --prefix fails here, naming this bucket
  const [leases, presence] = await Promise.all([
    reader.entries("leases"),
    reader.entries("presence"),
  ]);
  const processes: ProcessView[] = [];
  for (const e of nodes) {
    if (!e.key.startsWith("node.") && !e.key.startsWith("gateway.")) continue;
    const v = obj(decodeAny(e.value));
    processes.push({
      id: str(v.id) || e.key.slice(e.key.indexOf(".") + 1),
      role: str(v.role) || e.key.slice(0, e.key.indexOf(".")),
      region: str(v.region),
      load: Number(v.load ?? 0),
      epoch: str(v.epoch),
      url: str(v.url),
      started: Number(v.started ?? 0),
      lastBeat: e.created.getTime(),
    });
  }
  processes.sort((a, b) => `${a.role}.${a.id}`.localeCompare(`${b.role}.${b.id}`));
  const live = new Set(processes.map((p) => `${p.id}/${p.epoch}`));

  const byRoom = new Map<string, MemberView[]>();
  for (const e of presence) {
    const parts = e.key.split(".");
    if (parts.length < 3) continue;
    const v = obj(decodeAny(e.value));
    const room = `${parts[0]}.${parts[1]}`;
    const list = byRoom.get(room) ?? [];
    list.push({
      member: str(v.member) || (unescapeKeyToken(parts[2]!) ?? parts[2]!),
      user: str(v.user),
      name: str(v.name),
      gateway: str(v.gateway),
      leader: v.leader === true,
      joinedAt: Number(v.joinedAt ?? 0),
    });
    byRoom.set(room, list);
  }

  const rooms: RoomView[] = [];
  const duties: { duty: string; holder: unknown }[] = [];
  for (const e of leases) {
    const v = obj(decodeAny(e.value));
    if (e.key.startsWith("=duty.")) {
      duties.push({ duty: e.key.slice("=duty.".length), holder: v.owner ?? null });
      continue;
    }
    if (typeof v.owner !== "string" || !v.owner) continue;
    const [type = "", id = ""] = e.key.split(".");
    const members = (byRoom.get(e.key) ?? []).sort((a, b) => a.joinedAt - b.joinedAt);
    const leader = members.find((m) => m.leader);
    rooms.push({
      room: `${type}/${id}`,
      type,
      id,
      owner: v.owner,
      ownerEpoch: str(v.ownerEpoch),
      roomEpoch: Number(v.roomEpoch ?? 0),
      since: Number(v.at ?? e.created.getTime()),
      ownerLive: live.has(`${v.owner}/${str(v.ownerEpoch)}`),
      members,
      leader: leader ? leader.name || leader.member : null,
    });
  }
  rooms.sort((a, b) => a.room.localeCompare(b.room));
  return { at: Date.now(), processes, rooms, duties };
}

export function iso(ms: number): string | null {
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;
}

function obj(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string {
  return typeof value === "string"
    ? value
    : value === undefined || value === null
      ? ""
      : String(value);
}
