import { parseRoom, type DiscoverResponse, type RoomRef } from "@rookery/protocol";

/** What discovery needs of a live gateway's heartbeat record. */
export interface GatewayRecord {
  id: string;
  region: string;
  url: string;
  load: number;
}

/**
 * The gateway a new client should use (docs/protocol.md §13): live ones
 * only, not excluded, the requested region first, then the lowest load;
 * ties go to the smallest id so answers are stable between gateways.
 */
export function pickGateway(
  live: readonly GatewayRecord[],
  region: string | undefined,
  exclude: ReadonlySet<string>,
  /** The process owning the room asked for: its own gateway role wins, if live. */
  owner?: string,
): DiscoverResponse | undefined {
  const candidates = live.filter((g) => g.url && !exclude.has(g.id));
  const colocated = owner === undefined ? undefined : candidates.find((g) => g.id === owner);
  if (colocated) return { url: colocated.url, gateway: colocated.id, region: colocated.region };
  const local = region ? candidates.filter((g) => g.region === region) : [];
  const pool = local.length > 0 ? local : candidates;
  const best = pool.reduce<GatewayRecord | undefined>(
    (a, b) => (!a || b.load < a.load || (b.load === a.load && b.id < a.id) ? b : a),
    undefined,
  );
  return best && { url: best.url, gateway: best.id, region: best.region };
}

/** Parses `?region=R&exclude=a,b&room=type/id` (repeated `exclude` parameters add up). */
export function parseDiscoverQuery(search: URLSearchParams): {
  region: string | undefined;
  exclude: Set<string>;
  /** Undefined when absent or not a valid room reference (then ignored). */
  room: RoomRef | undefined;
} {
  const exclude = new Set(
    search
      .getAll("exclude")
      .flatMap((v) => v.split(","))
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const room = search.get("room");
  return {
    region: search.get("region") || undefined,
    exclude,
    room: room ? parseRoom(room) : undefined,
  };
}
