/**
 * Availability per fault kind: what became of the inputs sent while a fault
 * (or its recovery) was in progress, and how long rooms went without an ack.
 */
import {
  outcomeClass,
  type AvailabilityRow,
  type FaultWindow,
  type History,
  type InputRecord,
} from "./history";

/** Inputs sent outside every fault window. */
export const CALM = "calm";

export function availability(history: History): AvailabilityRow[] {
  const acks = ackTimes(history.inputs, (i) => i.room);
  const clientAcks = ackTimes(history.inputs, (i) => i.client);
  const rows = new Map<string, AvailabilityRow>();
  const row = (kind: string) => {
    let r = rows.get(kind);
    if (r === undefined) {
      r = emptyRow(kind);
      rows.set(kind, r);
    }
    return r;
  };
  row(CALM);
  for (const window of history.faults) {
    const r = row(window.kind);
    r.windows += 1;
    r.maxStallMs = Math.max(r.maxStallMs, longestStall(acks, window, history.loadMs));
    r.maxClientStallMs = Math.max(
      r.maxClientStallMs,
      longestStall(clientAcks, window, history.loadMs),
    );
  }
  for (const input of history.inputs) {
    const window = history.faults.find((w) => w.start <= input.sentAt && input.sentAt < w.end);
    count(row(window?.kind ?? CALM), input);
  }
  for (const [start, end] of calmSpans(history)) {
    const calm = row(CALM);
    calm.windows += 1;
    const span = { start, end };
    calm.maxStallMs = Math.max(calm.maxStallMs, longestStall(acks, span, history.loadMs));
    calm.maxClientStallMs = Math.max(
      calm.maxClientStallMs,
      longestStall(clientAcks, span, history.loadMs),
    );
  }
  return [...rows.values()];
}

function emptyRow(kind: string): AvailabilityRow {
  return {
    kind,
    windows: 0,
    sent: 0,
    acked: 0,
    rejected: 0,
    errors: {},
    unknown: 0,
    unknownBy: {},
    pending: 0,
    maxStallMs: 0,
    maxClientStallMs: 0,
    maxLatencyMs: 0,
  };
}

function count(row: AvailabilityRow, input: InputRecord): void {
  row.sent += 1;
  const outcome = input.outcome;
  switch (outcomeClass(outcome)) {
    case "ack":
      row.acked += 1;
      break;
    case "pending":
      row.pending += 1;
      break;
    case "unknown": {
      row.unknown += 1;
      const error = outcome as { code: string; name?: string };
      const key = error.name === "InputTimeoutError" ? error.name : error.code;
      row.unknownBy[key] = (row.unknownBy[key] ?? 0) + 1;
      break;
    }
    default: {
      const code = (outcome as { code: string }).code;
      if (code === "INPUT_REJECTED" && input.reject) row.rejected += 1;
      else row.errors[code] = (row.errors[code] ?? 0) + 1;
    }
  }
  if (outcome.kind !== "pending") {
    row.maxLatencyMs = Math.max(row.maxLatencyMs, Math.round(outcome.at - input.sentAt));
  }
}

/** Ack times, sorted, grouped by room or by client. */
function ackTimes(
  inputs: readonly InputRecord[],
  key: (input: InputRecord) => string,
): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (const input of inputs) {
    const list = groups.get(key(input)) ?? [];
    groups.set(key(input), list);
    if (input.outcome.kind === "ack") list.push(input.outcome.at);
  }
  for (const list of groups.values()) list.sort((a, b) => a - b);
  return groups;
}

function longestStall(
  groups: Map<string, number[]>,
  window: Pick<FaultWindow, "start" | "end">,
  loadMs: number,
): number {
  let longest = 0;
  for (const times of groups.values()) longest = Math.max(longest, maxStall(times, window, loadMs));
  return longest;
}

/**
 * The longest time one room went without an ack within the window: gaps
 * between consecutive acks (or the end of the load), clipped to the window,
 * so a stall that a later fault causes is not charged to this one.
 */
export function maxStall(
  times: readonly number[],
  window: Pick<FaultWindow, "start" | "end">,
  loadMs: number,
): number {
  const { start, end } = window;
  let longest = 0;
  let previous = -Infinity;
  for (const t of [...times, Math.max(loadMs, end)]) {
    if (t > start && previous < end) {
      longest = Math.max(longest, Math.min(t, end) - Math.max(previous, start));
    }
    previous = t;
    if (t >= end) break;
  }
  return Math.round(longest);
}

/** The parts of the load outside every fault window. */
function calmSpans(history: History): [number, number][] {
  const spans: [number, number][] = [];
  let from = 0;
  for (const w of [...history.faults].sort((a, b) => a.start - b.start)) {
    if (w.start > from) spans.push([from, w.start]);
    from = Math.max(from, w.end);
  }
  if (from < history.loadMs) spans.push([from, history.loadMs]);
  return spans;
}

/** The availability table as aligned text. */
export function formatAvailability(rows: readonly AvailabilityRow[]): string {
  const header = ["fault", "windows", "sent", "acked", "refused", "errors", "unknown", "pending"];
  header.push("room stall ms", "client stall ms", "max latency ms");
  const lines = rows.map((r) => [
    r.kind,
    String(r.windows),
    String(r.sent),
    String(r.acked),
    String(r.rejected),
    Object.entries(r.errors)
      .map(([code, n]) => `${code}:${n}`)
      .join(" ") || "0",
    r.unknown === 0
      ? "0"
      : `${r.unknown} (${Object.entries(r.unknownBy)
          .map(([why, n]) => `${why}:${n}`)
          .join(" ")})`,
    String(r.pending),
    String(r.maxStallMs),
    String(r.maxClientStallMs),
    String(r.maxLatencyMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [fmt(header), ...lines.map(fmt)].join("\n");
}
