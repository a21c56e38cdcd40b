/**
 * What one joined connection costs a gateway process (`npm run bench --
 * gateway-memory`, issue 11): a split shape (node process + gateway
 * process), BENCH_CLIENTS (default 2,000) raw protocol clients joined to 20
 * rooms through the gateway; the gateway's retained memory after a full GC
 * (V8 heap + external buffers, memory-probe.cjs) per client, and a heap
 * snapshot diff (before/after joining) by retainer kind: bytes per client
 * of each constructor, closure and native buffer.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { WebSocket } from "ws";
import { startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { joinedClient } from "./rookery-client";
import { report, round } from "./report";
import { retained } from "./retained-memory";

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 2000);
const ROOMS = 20;
const TOP = 25;
const PROBE = `--expose-gc --require ${new URL("./memory-probe.cjs", import.meta.url).pathname}`;

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

/** Self bytes by retainer kind (constructor, closure name, native, or string/array/code). */
async function snapshot(child: ChildHandle, dir: string): Promise<Map<string, number>> {
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
  rmSync(file.path);
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

export async function runGatewayMemory(): Promise<void> {
  const load = round(loadavg()[0]!, 1);
  const dir = mkdtempSync(join(tmpdir(), "gw-heap-"));
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  const sockets: WebSocket[] = [];
  try {
    const env = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS, ...UNLIMITED_RATE };
    children.push(await startNode(nats.url, "bench_gwm", "gwm-node", env));
    const gw = await startGatewayProcess(nats.url, "bench_gwm", "gwm-gw", {
      ...UNLIMITED_RATE,
      NODE_OPTIONS: `${PROBE} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`,
    });
    children.push(gw.child);
    // Warm every code path (and the rooms' channels) before the baseline.
    for (let r = 0; r < ROOMS; r++) {
      sockets.push(await joinedClient(gw.url, `warm${r}`, { type: "party", id: `g${r}` }));
    }
    const memBefore = await retained(gw.child);
    const heapBefore = await snapshot(gw.child, dir);
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: Math.min(100, CLIENTS - i) }, (_, j) =>
        joinedClient(gw.url, `u${i + j}`, { type: "party", id: `g${(i + j) % ROOMS}` }),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    const perClient = ((await retained(gw.child)) - memBefore) / CLIENTS;
    const heapAfter = await snapshot(gw.child, dir);
    const rows = [...heapAfter]
      .map(([kind, bytes]) => ({ kind, bytes: (bytes - (heapBefore.get(kind) ?? 0)) / CLIENTS }))
      .sort((a, b) => b.bytes - a.bytes);
    const heapTotal = rows.reduce((sum, r) => sum + r.bytes, 0);
    report(
      `gateway memory per joined client (${CLIENTS} clients in ${ROOMS} rooms, split shape; heap snapshot self sizes)`,
      rows.slice(0, TOP).map((r) => ({ retainer: r.kind, bytes_per_client: round(r.bytes, 1) })),
      {
        loadAverage1m: load,
        retainedBytesPerClient: Math.round(perClient),
        snapshotBytesPerClient: Math.round(heapTotal),
      },
    );
    console.log(JSON.stringify({ gatewayBytesPerClient: Math.round(perClient) }));
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
