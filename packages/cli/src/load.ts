import { SignJWT } from "jose";
import { connect, type Room, type RookeryClient } from "@rookery/client";
import type { Value } from "@rookery/protocol";
import { table } from "./format";

export interface LoadOptions {
  /** Gateway base URL for discovery (`http://…`), or a WebSocket URL (`ws://…/ws`) to use directly. */
  url: string;
  /** HMAC secret of the gateways' tokens (the load generator signs its own). */
  secret: string;
  /** @default 10 */
  clients?: number;
  /** Clients are spread over this many rooms. @default 2 */
  rooms?: number;
  /** Inputs per second per client. @default 5 */
  rate?: number;
  /** Seconds of load. @default 10 */
  duration?: number;
  /** Room type. @default "party" */
  type?: string;
  /** Input type; without one, a party queue (see `queue`) alternates `add` and `remove`, others send `ping`. */
  input?: string;
  /** The room is a party queue (alternate `add` and `remove`, so it never fills). @default type === "party" */
  queue?: boolean;
  /** Input body (JSON) for a custom input type. @default null */
  body?: Value;
  /** Room id prefix. @default "load" */
  roomPrefix?: string;
}

export interface LoadReport {
  clients: number;
  rooms: number;
  seconds: number;
  sent: number;
  acked: number;
  ackedPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: Record<string, number>;
  reconnects: number;
}

/** What a run counts as it goes; the report is made from it. */
interface LoadStats {
  sent: number;
  /** Input sent until its ack, ms, for every acknowledged input. */
  latencies: number[];
  errors: Record<string, number>;
  reconnects: number;
}

/**
 * Opens `clients` SDK clients over `rooms` rooms and has each send inputs
 * at `rate` for `duration` seconds; reports throughput and latency (input
 * sent until its ack) percentiles. Used by `rookery load` and benchmarks.
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const o = {
    clients: 10,
    rooms: 2,
    rate: 5,
    duration: 10,
    type: "party",
    roomPrefix: "load",
    ...options,
  };
  const key = new TextEncoder().encode(o.secret);
  const target = o.url.startsWith("ws") ? { url: o.url } : { discoveryUrl: o.url };
  const stats: LoadStats = { sent: 0, latencies: [], errors: {}, reconnects: 0 };
  const players: { client: RookeryClient; room: Room }[] = [];
  try {
    for (let i = 0; i < o.clients; i++) {
      const token = () => sign(key, `load-${i}`);
      const id = `${o.roomPrefix}-${i % o.rooms}`;
      // Discovery names the process that owns the room (co-located shape), as the SDK's users do.
      const client = await connect({ ...target, token, room: `${o.type}/${id}` });
      client.on("reconnecting", () => stats.reconnects++);
      players.push({ client, room: await client.join(o.type, id) });
    }
    const started = performance.now();
    const until = started + o.duration * 1000;
    await Promise.all(players.map((p) => drive(p.room, o, until, stats)));
    const seconds = (performance.now() - started) / 1000;
    return report(o, seconds, stats);
  } finally {
    for (const p of players) p.client.close();
  }
}

async function drive(
  room: Room,
  o: Required<Pick<LoadOptions, "rate" | "type">> & LoadOptions,
  until: number,
  stats: LoadStats,
): Promise<void> {
  const interval = 1000 / o.rate;
  let next = performance.now() + Math.random() * interval;
  let added: string | undefined;
  const inFlight = new Set<Promise<void>>();
  while (next < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    next += interval;
    const [type, body] = nextInput(o, added);
    const sentAt = performance.now();
    stats.sent++;
    const done = room.send(type, body).then(
      (result) => {
        stats.latencies.push(performance.now() - sentAt);
        if (type === "add") added = (result as { id?: string } | undefined)?.id;
        else if (type === "remove") added = undefined;
      },
      (error: { code?: string }) => {
        const code = error.code ?? "UNKNOWN";
        stats.errors[code] = (stats.errors[code] ?? 0) + 1;
      },
    );
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done));
  }
  await Promise.allSettled([...inFlight]);
}

/** The party default keeps the queue short: add an item, then remove it. */
function nextInput(o: LoadOptions, added: string | undefined): [string, Value] {
  if (o.input) return [o.input, o.body ?? null];
  if (o.queue ?? o.type === "party") {
    return added ? ["remove", { id: added }] : ["add", { title: "load" }];
  }
  return ["ping", null];
}

function report(
  o: { clients: number; rooms: number },
  seconds: number,
  stats: LoadStats,
): LoadReport {
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  const at = (p: number) =>
    round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);
  return {
    clients: o.clients,
    rooms: o.rooms,
    seconds: round(seconds),
    sent: stats.sent,
    acked: sorted.length,
    ackedPerSec: round(sorted.length / seconds),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted.at(-1) ?? 0) },
    errors: stats.errors,
    reconnects: stats.reconnects,
  };
}

/** The report as a table (for people) followed by one JSON line (for scripts). */
export function formatLoadReport(r: LoadReport): string {
  const row = {
    clients: r.clients,
    rooms: r.rooms,
    seconds: r.seconds,
    sent: r.sent,
    acked: r.acked,
    "acked/s": r.ackedPerSec,
    p50: r.latencyMs.p50,
    p90: r.latencyMs.p90,
    p99: r.latencyMs.p99,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
  };
  return `${table([row], Object.keys(row))}\n${JSON.stringify({ load: r })}`;
}

function sign(key: Uint8Array, sub: string): Promise<string> {
  return new SignJWT({ name: sub })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(key);
}

const round = (n: number) => Math.round(n * 100) / 100;
