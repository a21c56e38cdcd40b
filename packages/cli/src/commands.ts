import type { KV, KvWatchEntry } from "@nats-io/kv";
import { decodeAny } from "@rookery/cluster";
import type { BucketAlias, BucketReader } from "./buckets";
import { age, cell, table } from "./format";

export interface Output {
  json: boolean;
  write(line: string): void;
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

export async function nodesCommand(reader: BucketReader, out: Output): Promise<void> {
  const now = Date.now();
  const rows: Record<string, unknown>[] = (await decoded(reader, "nodes"))
    .filter((e) => e.key.startsWith("node.") || e.key.startsWith("gateway."))
    .map((e) => ({ ...e.value, age: age(Number(e.value.started), now) }));
  rows.sort((a, b) =>
    `${cell(a.role)}.${cell(a.id)}`.localeCompare(`${cell(b.role)}.${cell(b.id)}`),
  );
  const duties: Record<string, unknown>[] = (await decoded(reader, "leases", "=duty.>")).map(
    (e) => ({
      duty: e.key.slice("=duty.".length),
      holder: e.value.owner,
      holderEpoch: e.value.ownerEpoch,
    }),
  );
  if (out.json) return out.write(JSON.stringify({ processes: rows, duties }));
  out.write(table(rows, ["id", "role", "region", "load", "age", "epoch", "url"]));
  for (const d of duties) out.write(`duty ${cell(d.duty)}: ${cell(d.holder)}`);
}

export async function leasesCommand(
  reader: BucketReader,
  out: Output,
  node?: string,
): Promise<void> {
  const rows = (await decoded(reader, "leases"))
    .filter((e) => !e.key.startsWith("=duty."))
    .map((e): Record<string, unknown> => ({
      room: e.key,
      ...e.value,
      state: e.value.owner ? "held" : "free",
    }))
    .filter((r) => !node || r.owner === node);
  if (out.json) return out.write(JSON.stringify({ leases: rows }));
  out.write(table(rows, ["room", "state", "owner", "ownerEpoch", "roomEpoch"]));
}

export async function presenceCommand(
  reader: BucketReader,
  out: Output,
  room: string,
): Promise<void> {
  const [type, id] = room.split("/");
  if (!type || !id) throw new UsageError(`room must be <type>/<id>, got ${JSON.stringify(room)}`);
  const rows = (await decoded(reader, "presence", `${type}.${id}.*`)).map((e) => e.value);
  if (out.json) return out.write(JSON.stringify({ room, count: rows.length, members: rows }));
  out.write(table(rows, ["member", "user", "name", "gateway", "leader", "joinedAt"]));
  out.write(`${rows.length} member(s)`);
}

/** Live tail of a bucket: current values first, then every change, until stopped. */
export async function watchCommand(
  reader: BucketReader,
  out: Output,
  alias: BucketAlias,
  signal: AbortSignal,
): Promise<void> {
  const tail = async (kv: KV) => {
    const iter = await kv.watch({ key: ">" });
    signal.addEventListener("abort", () => iter.stop(), { once: true });
    for await (const entry of iter) out.write(renderChange(entry, out.json));
  };
  await Promise.all((await reader.open(alias)).map(tail));
}

function renderChange(entry: KvWatchEntry, json: boolean): string {
  const value = entry.operation === "PUT" ? decodeAny(entry.value) : null;
  const change = {
    at: entry.created.toISOString(),
    op: entry.operation,
    key: entry.key,
    revision: entry.revision,
    value,
  };
  if (json) return JSON.stringify(change);
  return `${change.at}  ${change.op.padEnd(5)} ${change.key}  rev=${change.revision}  ${cell(value)}`;
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
