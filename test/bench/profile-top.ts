/**
 * `node --import tsx test/bench/profile-top.ts <file.cpuprofile> [n]`: the
 * top `n` (default 25) functions of a V8 CPU profile by self time, with
 * their share of the samples, and the share by file (what costs what).
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
  const total = profile.samples.length;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "~/");
    const short = where.replace(/^\/work\/main\//, "");
    const key = `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
    const group = short ? short.replace(/^(~\/(@[^/]+\/)?[^/]+)\/.*$/, "$1") : functionName;
    byFile.set(group, (byFile.get(group) ?? 0) + count);
  }
  const pct = (c: number) => `${((100 * c) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${file}: ${total} samples`, "-- self time by function --"];
  for (const [k, c] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    lines.push(`${pct(c)}  ${k}`);
  }
  lines.push("-- self time by file or package --");
  for (const [k, c] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    lines.push(`${pct(c)}  ${k}`);
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  console.log(topFunctions(process.argv[2]!, Number(process.argv[3] ?? 25)));
}
