/**
 * CPU seconds a process has used (user + system), read from /proc/<pid>/stat,
 * so a benchmark can charge every server process (nats-server and Redis
 * included) for the inputs of one load step.
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in seconds (resolution one clock tick, 10 ms). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after the name and state.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** A CPU meter over named processes: `start()` then `stop()` gives seconds per name. */
export class CpuMeter {
  #before = new Map<string, number>();
  #self = process.cpuUsage();

  constructor(private readonly pids: Record<string, number>) {}

  start(): void {
    for (const [name, pid] of Object.entries(this.pids)) this.#before.set(name, cpuSeconds(pid));
    this.#self = process.cpuUsage();
  }

  /** CPU seconds of each process since `start()`, and `generator` (this process). */
  stop(): { perProcess: Record<string, number>; total: number; generator: number } {
    const perProcess: Record<string, number> = {};
    let total = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const used = cpuSeconds(pid) - this.#before.get(name)!;
      perProcess[name] = used;
      total += used;
    }
    const self = process.cpuUsage(this.#self);
    return { perProcess, total, generator: (self.user + self.system) / 1e6 };
  }
}
