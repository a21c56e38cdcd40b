/**
 * What one joined connection costs a gateway process (`npm run bench --
 * gateway-memory`, issue 11): a split shape (node process + gateway
 * process), BENCH_CLIENTS (default 2,000) raw protocol clients joined to
 * rooms of 100 through the gateway; the gateway's retained memory after a full GC
 * (V8 heap + external buffers, memory-probe.cjs) per client, and a heap
 * snapshot diff (before/after joining) by retainer kind: bytes per client
 * of each constructor, closure and native buffer.
 *
 * BENCH_SHAPE=co measures the co-located process (gateway and node in one,
 * as `npm run bench -- colyseus` does) instead: the warm-up clients join
 * other rooms, so the measured rooms start during the measurement and the
 * figure includes each room actor's share, as that bench's does.
 * BENCH_SNAPSHOTS=<dir> keeps both heap snapshots there for a closer look.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { WebSocket } from "ws";
import { startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { startServerProcess } from "../../services/server/test/servers";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { joinedClient } from "./rookery-client";
import { report, round } from "./report";
import { retained } from "./retained-memory";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2000);
const CO_LOCATED = process.env.BENCH_SHAPE === "co";
/** 100 clients a room, as in the colyseus bench. */
const ROOMS = Math.max(1, Math.round(CLIENTS / 100));
const KEEP = process.env.BENCH_SNAPSHOTS;
const TOP = 25;
const PROBE = `--expose-gc --require ${new URL("./memory-probe.cjs", import.meta.url).pathname}`;

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self bytes by retainer kind (constructor, closure name, native, or string/array/code). */
async function snapshot(
  child: ChildHandle,
  dir: string,
  label: string,
): Promise<Map<string, number>> {
  const before = new Set(readdirSync(dir));
  process.kill(child.pid, "SIGUSR2");
  const file = await until(
    () => {
      const name = readdirSync(dir).find((f) => !before.has(f) && f.endsWith(".heapsnapshot"));
      if (!name) return undefined;
      const path = join(dir, name);
      const size = statSync(path).size;
      try {
        return size > 0
          ? { path, json: JSON.parse(readFileSync(path, "utf8")) as HeapSnapshot }
          : undefined;
      } catch {
        return undefined; // still being written
      }
    },
    60_000,
    "heap snapshot",
  );
  if (KEEP) {
    mkdirSync(KEEP, { recursive: true });
    renameSync(file.path, join(KEEP, `${label}.heapsnapshot`));
  } else rmSync(file.path);
  return bySelfSize(file.json);
}

function bySelfSize(snap: HeapSnapshot): Map<string, number> {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [t, n, s] = ["type", "name", "self_size"].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const sizes = new Map<string, number>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + t]!]!;
    const named = type === "object" || type === "closure" || type === "native";
    const key = named ? `${type} ${snap.strings[snap.nodes[i + n]!]!.slice(0, 60)}` : `(${type})`;
    sizes.set(key, (sizes.get(key) ?? 0) + snap.nodes[i + s]!);
  }
  return sizes;
}

/** The process measured: a gateway (split shape, its node apart) or a co-located server. */
async function startMeasured(
  natsUrl: string,
  dir: string,
  children: ChildHandle[],
): Promise<{ child: ChildHandle; url: string }> {
  const env = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS, ...UNLIMITED_RATE };
  const probe = { NODE_OPTIONS: `${PROBE} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}` };
  if (CO_LOCATED) {
    const co = await startServerProcess(natsUrl, "bench_gwm", "gwm-co", { ...env, ...probe });
    children.push(co.child);
    return co;
  }
  children.push(await startNode(natsUrl, "bench_gwm", "gwm-node", env));
  const gw = await startGatewayProcess(natsUrl, "bench_gwm", "gwm-gw", {
    ...UNLIMITED_RATE,
    ...probe,
  });
  children.push(gw.child);
  return gw;
}

export async function runGatewayMemory(): Promise<void> {
  const load = round(loadavg()[0]!, 1);
  const dir = mkdtempSync(join(tmpdir(), "gw-heap-"));
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  const sockets: WebSocket[] = [];
  try {
    const measured = await startMeasured(nats.url, dir, children);
    // Warm every code path before the baseline; split: the rooms' channels too,
    // co-located: other rooms, so the measured ones start (and count) below.
    const warm = CO_LOCATED ? "w" : "g";
    for (let r = 0; r < ROOMS; r++) {
      sockets.push(
        await joinedClient(measured.url, `warm${r}`, { type: "party", id: `${warm}${r}` }),
      );
    }
    const memBefore = await retained(measured.child);
    const heapBefore = await snapshot(measured.child, dir, "before");
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) =>
        joinedClient(measured.url, `u${i + j}`, { type: "party", id: `g${(i + j) % ROOMS}` }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    const perClient = ((await retained(measured.child)) - memBefore) / CLIENTS;
    const heapAfter = await snapshot(measured.child, dir, "after");
    const rows = [...heapAfter]
      .map(([kind, bytes]) => ({ kind, bytes: (bytes - (heapBefore.get(kind) ?? 0)) / CLIENTS }))
      .sort((a, b) => b.bytes - a.bytes);
    const heapTotal = rows.reduce((sum, r) => sum + r.bytes, 0);
    const shape = CO_LOCATED ? "co-located process" : "gateway, split shape";
    report(
      `${CO_LOCATED ? "co-located" : "gateway"} memory per joined client (${CLIENTS} clients in ${ROOMS} rooms, ${shape}; heap snapshot self sizes)`,
      rows.slice(0, TOP).map((r) => ({ retainer: r.kind, bytes_per_client: round(r.bytes, 1) })),
      {
        loadAverage1m: load,
        retainedBytesPerClient: Math.round(perClient),
        snapshotBytesPerClient: Math.round(heapTotal),
      },
    );
    const key = CO_LOCATED ? "coLocatedBytesPerClient" : "gatewayBytesPerClient";
    console.log(JSON.stringify({ [key]: Math.round(perClient) }));
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
