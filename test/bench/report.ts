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
