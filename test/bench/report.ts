/** Prints benchmark results as an aligned table and one machine-readable JSON line. */
export function report(
  name: string,
  rows: Record<string, string | number>[],
  summary: Record<string, unknown>,
) {
  const columns = Object.keys(rows[0] ?? {});
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => String(r[c]).length));
  const line = (cells: string[]) => cells.map((v, i) => v.padStart(width(columns[i]!))).join("  ");
  console.log(`\n== ${name} ==`);
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c]))));
  console.log(JSON.stringify({ bench: name, ...summary, rows }));
}

export async function monitor(url: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`);
  return (await res.json()) as Record<string, unknown>;
}

export function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** p50 and p99 of latencies in ms, rounded to `digits`. */
export function latencies(times: number[], digits: number): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { p50: round(at(0.5), digits), p99: round(at(0.99), digits) };
}
