/**
 * `node --import tsx test/bench/profile-top.ts <file.cpuprofile> [n]`: the
 * top `n` (default 25) functions of a V8 CPU profile by self time, as shares
 * of the busy samples (all but `(idle)`), then the busy time by category and
 * by file or package (what costs what).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export function topFunctions(file: string, n = 25): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const idle = profile.nodes
    .filter((n) => n.callFrame.functionName === "(idle)")
    .reduce((sum, n) => sum + profile.samples.filter((id) => id === n.id).length, 0);
  const total = profile.samples.length - idle;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byCategory = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0 || node.callFrame.functionName === "(idle)") continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "~/");
    const short = where.replace(/^\/work\/main\//, "");
    const key = `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const group = short ? short.replace(/^(~\/(@[^/]+\/)?[^/]+)\/.*$/, "$1") : functionName;
    byFile.set(group, (byFile.get(group) ?? 0) + count);
    const category = categoryOf(functionName, short);
    byCategory.set(category, (byCategory.get(category) ?? 0) + count);
  }
  const pct = (c: number) => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
  const ms = (profile.timeDeltas.reduce((a, b) => a + b, 0) / 1000) * (total / (total + idle));
  const lines = [
    `${file}: ${total} busy samples of ${total + idle} (about ${Math.round(ms)} ms busy)`,
    "-- busy time by category --",
  ];
  for (const [k, c] of [...byCategory].sort((a, b) => b[1] - a[1])) lines.push(`${pct(c)}  ${k}`);
  lines.push("-- self time by function --");
  for (const [k, c] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    lines.push(`${pct(c)}  ${k}`);
  }
  lines.push("-- self time by file or package --");
  for (const [k, c] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    lines.push(`${pct(c)}  ${k}`);
  }
  return lines.join("\n");
}

/** Coarse buckets of self time: which layer of a server process the CPU goes to. */
const CATEGORIES: [string, RegExp][] = [
  ["vm handler budget (runInContext)", /^runInContext /],
  ["garbage collector", /^\(garbage collector\)/],
  [
    "room actor and room logic (packages/actors, examples)",
    / (\/tmp\/[^ ]+\/)?(packages\/actors|examples)\//,
  ],
  ["gateway (services/gateway, services/server)", / (\/tmp\/[^ ]+\/)?services\/(gateway|server)\//],
  [
    "node service, cluster (services/node, packages/cluster)",
    / (\/tmp\/[^ ]+\/)?(services\/node|packages\/cluster)\//,
  ],
  [
    "MessagePack (msgpackr, packages/protocol)",
    / (~\/msgpackr|(\/tmp\/[^ ]+\/)?packages\/protocol)/,
  ],
  ["NATS client (@nats-io)", / ~\/@nats-io\//],
  ["WebSocket library (ws)", / ~\/ws\//],
  [
    "socket I/O (writev, streams, net)",
    /^(writev|writeBuffer|writeUtf8String) |node:(net|internal\/stream_base_commons|internal\/streams)/,
  ],
  ["metrics (prom-client)", / ~\/prom-client\//],
  [
    "module loading (tsx, esm, cjs)",
    /node:internal\/modules|~\/tsx\/|^(compileFunction|wrapSafe) /,
  ],
  ["Colyseus (@colyseus)", / ~\/@colyseus\//],
  ["Redis client (ioredis)", / ~\/ioredis\//],
];

function categoryOf(functionName: string, where: string): string {
  const key = `${functionName || "(anonymous)"} ${where}`;
  return CATEGORIES.find(([, re]) => re.test(key))?.[0] ?? "other (V8 builtins, node internals)";
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  console.log(topFunctions(process.argv[2]!, Number(process.argv[3] ?? 25)));
}
