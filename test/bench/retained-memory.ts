import { until, type ChildHandle } from "@rookery/testkit";

/**
 * Retained memory of a child started with memory-probe.cjs, after a full
 * GC: V8 heap plus external buffers (sockets). The probe prints it on SIGWINCH.
 */
export async function retained(child: ChildHandle): Promise<number> {
  const seen = child.lines.length;
  process.kill(child.pid, "SIGWINCH");
  const line = await until(
    () => child.lines.slice(seen).find((l) => l.includes('"event":"memory"')),
    10_000,
    "memory line",
  );
  const m = JSON.parse(line) as { heapUsed: number; external: number };
  return m.heapUsed + m.external;
}
