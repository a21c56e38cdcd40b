import type { KV, KvWatchEntry } from "@nats-io/kv";
import { decodeAny } from "@rookery/cluster/internal";
import { BUCKETS, type BucketAlias, type BucketReader } from "./buckets";
import { decodeKey, iso, readCluster, type ClusterSnapshot } from "./cluster-view";
import type { ControlClient } from "./control";
import { ControlError, type ControlReply, type DrainStatus } from "./control";
import { age, cell, table } from "./format";

export interface Output {
  json: boolean;
  write(line: string): void;
}

/** What a command gets: the buckets, the connection's control client, output and Ctrl-C. */
export interface CommandContext {
  reader: BucketReader;
  control: ControlClient;
  out: Output;
  signal: AbortSignal;
}

interface Decoded {
  key: string;
  revision: number;
  value: Record<string, unknown>;
}

async function decoded(
  reader: BucketReader,
  alias: BucketAlias,
  filter?: string,
): Promise<Decoded[]> {
  const entries = await reader.entries(alias, filter);
  return entries.map((e) => ({
    key: e.key,
    revision: e.revision,
    value: asObject(decodeAny(e.value)),
  }));
}

export async function nodesCommand({ reader, out }: CommandContext): Promise<void> {
  const snapshot = await readCluster(reader);
  const now = Date.now();
  if (out.json) {
    return out.write(
      JSON.stringify({
        processes: snapshot.processes.map((p) => ({
          ...p,
          started: iso(p.started),
          lastBeat: iso(p.lastBeat),
        })),
        duties: snapshot.duties.map((d) => ({ duty: d.duty, holder: d.holder })),
      }),
    );
  }
  const rows = snapshot.processes.map((p) => ({
    ...p,
    age: age(p.started, now),
    beat: `${age(p.lastBeat, now)} ago`,
  }));
  out.write(table(rows, ["id", "role", "region", "load", "age", "beat", "epoch", "url"]));
  for (const d of snapshot.duties) out.write(`duty ${cell(d.duty)}: ${cell(d.holder)}`);
}

export async function leasesCommand({ reader, out }: CommandContext, node?: string): Promise<void> {
  const now = Date.now();
  const rows = (await decoded(reader, "leases"))
    .filter((e) => !e.key.startsWith("=duty."))
    .map((e) => ({
      room: e.key.replace(".", "/"),
      owner: (e.value.owner as string | null) ?? null,
      ownerEpoch: (e.value.ownerEpoch as string | null) ?? null,
      roomEpoch: e.value.roomEpoch,
      state: e.value.owner ? "held" : "free",
      at: Number(e.value.at ?? 0),
    }))
    .filter((r) => !node || r.owner === node)
    .sort((a, b) => a.room.localeCompare(b.room));
  if (out.json) {
    return out.write(JSON.stringify({ leases: rows.map((r) => ({ ...r, at: iso(r.at) })) }));
  }
  out.write(
    table(
      rows.map((r) => ({ ...r, since: r.at ? age(r.at, now) : "-" })),
      ["room", "state", "owner", "ownerEpoch", "roomEpoch", "since"],
    ),
  );
}

export async function presenceCommand(
  { reader, out }: CommandContext,
  room: string,
): Promise<void> {
  const [type, id] = parseRoom(room);
  const now = Date.now();
  const rows = (await decoded(reader, "presence", `${type}.${id}.*`))
    .map((e) => e.value)
    .sort((a, b) => Number(a.joinedAt ?? 0) - Number(b.joinedAt ?? 0));
  if (out.json) {
    const members = rows.map((r) => ({ ...r, joinedAt: iso(Number(r.joinedAt)) }));
    return out.write(JSON.stringify({ room, count: rows.length, members }));
  }
  const view = rows.map((r) => ({
    ...r,
    leader: r.leader ? "yes" : "",
    joined: `${age(Number(r.joinedAt), now)} ago`,
  }));
  out.write(table(view, ["member", "user", "name", "gateway", "leader", "joined"]));
  out.write(`${rows.length} member(s)`);
}

/** Active rooms: owner, room epoch, members, leader, age. */
export async function roomsCommand(
  { reader, out }: CommandContext,
  filter: { node?: string; type?: string },
): Promise<void> {
  const snapshot = await readCluster(reader);
  const rooms = snapshot.rooms.filter(
    (r) => (!filter.node || r.owner === filter.node) && (!filter.type || r.type === filter.type),
  );
  if (out.json) return out.write(JSON.stringify({ rooms: roomsJson(rooms) }));
  const now = Date.now();
  const rows = rooms.map((r) => ({
    room: r.room,
    owner: r.ownerLive ? r.owner : `${r.owner} (down)`,
    epoch: r.roomEpoch,
    members: r.members.length,
    leader: r.leader,
    age: age(r.since, now),
  }));
  out.write(table(rows, ["room", "owner", "epoch", "members", "leader", "age"]));
  out.write(`${rooms.length} room(s)`);
}

export function roomsJson(rooms: ClusterSnapshot["rooms"]): Record<string, unknown>[] {
  return rooms.map((r) => ({
    ...r,
    since: iso(r.since),
    members: r.members.map((m) => ({ ...m, joinedAt: iso(m.joinedAt) })),
  }));
}

/**
 * Drains a node without stopping it: it takes no more placements and hands
 * every room to the other nodes; prints progress until it is done.
 */
export async function drainCommand(
  { reader, control, out, signal }: CommandContext,
  node: string,
  options: { wait: boolean; timeoutMs: number },
): Promise<void> {
  await requireNode(reader, node);
  let status = await control.request<DrainStatus>(node, { op: "drain" });
  const total = status.drain?.total ?? status.rooms;
  if (!out.json) out.write(`drain ${node}: started, ${total} room(s) to hand over`);
  if (!options.wait) {
    if (out.json) out.write(JSON.stringify({ node, draining: true, status: drainJson(status) }));
    return;
  }
  const deadline = Date.now() + options.timeoutMs;
  let shown = -1;
  while (!status.drain?.finishedAt) {
    if (signal.aborted) throw new ControlError(`interrupted: ${node} keeps draining`);
    if (Date.now() > deadline) {
      throw new ControlError(`drain of ${node} not finished after ${options.timeoutMs / 1000}s`);
    }
    await sleep(300, signal);
    status = await control.request<DrainStatus>(node, { op: "status" });
    const done = (status.drain?.moved ?? 0) + (status.drain?.failed ?? 0);
    if (!out.json && done !== shown) {
      shown = done;
      out.write(`drain ${node}: ${done}/${status.drain?.total ?? "?"} handed over`);
    }
  }
  const left = (await decoded(reader, "leases")).filter(
    (e) => !e.key.startsWith("=") && e.value.owner === node,
  ).length;
  const drain = status.drain;
  if (!drain) throw new ControlError(`${node} reported no drain`);
  if (out.json) {
    out.write(JSON.stringify({ node, draining: true, left, status: drainJson(status) }));
  } else {
    const where = new Map<string, number>();
    for (const r of drain.recent) if (r.to) where.set(r.to, (where.get(r.to) ?? 0) + 1);
    const spread = [...where].map(([n, c]) => `${n}: ${c}`).join(", ");
    out.write(
      `drain ${node}: done, ${drain.moved} room(s) handed over${spread ? ` (last ones to ${spread})` : ""}, ${drain.failed} failed, ${left} still held; ${node} takes no placement until \`rookery undrain ${node}\``,
    );
  }
  if (drain.failed > 0 || left > 0) {
    throw new ControlError(`${drain.failed + left} room(s) of ${node} were not handed over`);
  }
}

export async function undrainCommand(
  { reader, control, out }: CommandContext,
  node: string,
): Promise<void> {
  await requireNode(reader, node);
  const status = await control.request<DrainStatus>(node, { op: "undrain" });
  if (out.json) return out.write(JSON.stringify({ node, draining: status.draining }));
  out.write(`undrain ${node}: takes placements again`);
}

/** Moves one room off its owner, to `to` or to the least loaded other node. */
export async function moveCommand(
  { reader, control, out }: CommandContext,
  room: string,
  to: string | undefined,
): Promise<void> {
  const [type, id] = parseRoom(room);
  const lease = (await decoded(reader, "leases", `${type}.${id}`))[0];
  const owner = lease?.value.owner;
  if (typeof owner !== "string" || !owner) {
    throw new ControlError(`room ${room} is not active: no node holds its lease`);
  }
  if (to) await requireNode(reader, to);
  const result = await control.request<ControlReply & { to?: string; ms: number }>(owner, {
    op: "move",
    room,
    ...(to ? { to } : {}),
  });
  if (out.json) {
    return out.write(JSON.stringify({ room, from: owner, to: result.to ?? null, ms: result.ms }));
  }
  out.write(
    result.to
      ? `moved ${room} from ${owner} to ${result.to} in ${result.ms} ms`
      : `released ${room} on ${owner}: the next request places it (${result.error ?? ""})`,
  );
}

async function requireNode(reader: BucketReader, node: string): Promise<void> {
  const nodes = await decoded(reader, "nodes", `node.${node}`);
  if (nodes.length === 0) {
    throw new ControlError(`no live node ${node} (see rookery nodes)`);
  }
}

function drainJson(status: DrainStatus): Record<string, unknown> {
  return { draining: status.draining, rooms: status.rooms, ...(status.drain ?? {}) };
}

export interface WatchOptions {
  /** NATS key pattern (`chess.*`, `chess.g1.>`). @default ">" */
  key?: string;
  /** Show every heartbeat of the nodes bucket (hidden: only joins, restarts and leaves). */
  heartbeats?: boolean;
}

/** Live tail of buckets: current values first, then every change, until stopped. */
export async function watchCommand(
  { reader, out, signal }: CommandContext,
  aliases: BucketAlias[],
  options: WatchOptions = {},
): Promise<void> {
  const key = options.key ?? ">";
  const many = aliases.length > 1;
  const tail = async (alias: BucketAlias, kv: KV, perServer: boolean) => {
    // The epoch last shown per process key: a later PUT with the same epoch is a heartbeat.
    const epochs = new Map<string, unknown>();
    const iter = await kv.watch({ key });
    signal.addEventListener("abort", () => iter.stop(), { once: true });
    for await (const entry of iter) {
      const value = entry.operation === "PUT" ? decodeAny(entry.value) : null;
      if (alias === "nodes" && !options.heartbeats) {
        const epoch = (value as { epoch?: unknown } | null)?.epoch;
        const beat = entry.operation === "PUT" && epochs.get(entry.key) === epoch;
        if (entry.operation === "PUT") epochs.set(entry.key, epoch);
        else epochs.delete(entry.key);
        if (beat) continue;
      }
      const bucket = many || perServer ? entry.bucket : undefined;
      out.write(renderChange(entry, value, out.json, bucket));
    }
  };
  const runs: Promise<void>[] = [];
  for (const alias of aliases) {
    const kvs = await reader.open(alias);
    for (const kv of kvs) runs.push(tail(alias, kv, kvs.length > 1));
  }
  await Promise.all(runs);
}

function renderChange(
  entry: KvWatchEntry,
  value: unknown,
  json: boolean,
  bucket: string | undefined,
): string {
  const change = {
    at: entry.created.toISOString(),
    ...(bucket ? { bucket } : {}),
    op: entry.operation,
    key: decodeKey(entry.key),
    revision: entry.revision,
    value: json ? isoTimes(value) : value,
  };
  if (json) return JSON.stringify(change);
  const where = bucket ? `${bucket}  ` : "";
  return `${change.at}  ${where}${change.op.padEnd(5)} ${change.key}  rev=${change.revision}  ${cell(value)}`;
}

/** Millisecond timestamps of known record fields as ISO 8601 (JSON output). */
function isoTimes(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const field of ["started", "at", "joinedAt"]) {
    if (typeof out[field] === "number") out[field] = iso(out[field]);
  }
  return out;
}

export function parseBuckets(names: string[]): BucketAlias[] {
  if (names.length === 0) return [...BUCKETS];
  for (const name of names) {
    if (!BUCKETS.includes(name as BucketAlias)) {
      throw new UsageError(`unknown bucket ${JSON.stringify(name)}: use ${BUCKETS.join(", ")}`);
    }
  }
  return [...new Set(names)] as BucketAlias[];
}

function parseRoom(room: string): [string, string] {
  const [type, id, extra] = room.split("/");
  if (!type || !id || extra !== undefined) {
    throw new UsageError(`room must be <type>/<id>, got ${JSON.stringify(room)}`);
  }
  return [type, id];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}

export class UsageError extends Error {
  readonly code = "USAGE";
  override readonly name = "UsageError";
}
