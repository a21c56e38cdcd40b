/** Text output of chaos runs: violations grouped by kind, availability tables, saved runs. */
import { mkdir, writeFile } from "node:fs/promises";
import { formatAvailability } from "./availability";
import type { AvailabilityRow, Violation } from "./history";
import type { RunResult } from "./run-once";

/** Examples printed per violation kind; the count covers all of them. */
const EXAMPLES = 5;

export function formatViolations(violations: readonly Violation[]): string {
  if (violations.length === 0) return "no violations";
  const byKind = new Map<string, Violation[]>();
  for (const v of violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v]);
  const lines: string[] = [];
  for (const [kind, list] of byKind) {
    lines.push(`${kind}: ${list.length}`);
    for (const v of list.slice(0, EXAMPLES)) {
      const where = [v.room, v.client, v.tag].filter(Boolean).join(" ");
      lines.push(`  ${where}: ${v.detail}`);
    }
  }
  return lines.join("\n");
}

export function formatRun(result: RunResult): string {
  const { history, report } = result;
  const faults = history.faults.map(
    (w) => `  ${w.start}-${w.end} ms ${w.kind}: ${w.detail} (healed at ${w.healed})`,
  );
  const waits = result.waits.map((w) => `  ${w.what}: ${w.ok ? "ok" : "TIMED OUT"} in ${w.ms} ms`);
  return [
    `seed ${history.seed}: ${report.violations.length} violations, wall ${result.wallMs} ms`,
    `faults:`,
    ...faults,
    `waits:`,
    ...waits,
    `stats: ${JSON.stringify(report.stats)}`,
    formatAvailability(report.availability),
    formatViolations(report.violations),
  ].join("\n");
}

/** Sums availability rows of many runs, kind by kind. */
export function mergeAvailability(runs: readonly AvailabilityRow[][]): AvailabilityRow[] {
  const merged = new Map<string, AvailabilityRow>();
  for (const row of runs.flat()) {
    const into = merged.get(row.kind);
    if (into === undefined) {
      merged.set(row.kind, { ...row, errors: { ...row.errors }, unknownBy: { ...row.unknownBy } });
      continue;
    }
    into.windows += row.windows;
    into.sent += row.sent;
    into.acked += row.acked;
    into.rejected += row.rejected;
    into.unknown += row.unknown;
    into.pending += row.pending;
    into.maxStallMs = Math.max(into.maxStallMs, row.maxStallMs);
    into.maxClientStallMs = Math.max(into.maxClientStallMs, row.maxClientStallMs);
    into.maxLatencyMs = Math.max(into.maxLatencyMs, row.maxLatencyMs);
    for (const [code, n] of Object.entries(row.errors)) {
      into.errors[code] = (into.errors[code] ?? 0) + n;
    }
    for (const [why, n] of Object.entries(row.unknownBy)) {
      into.unknownBy[why] = (into.unknownBy[why] ?? 0) + n;
    }
  }
  return [...merged.values()];
}

const OUT_DIR = ".data/chaos";

/** Writes the whole run (history, report, process logs) to `.data/chaos/<seed>.json`. */
export async function saveRun(result: RunResult): Promise<string> {
  await mkdir(OUT_DIR, { recursive: true });
  const file = `${OUT_DIR}/${result.history.seed}.json`;
  await writeFile(file, JSON.stringify(result));
  return file;
}
