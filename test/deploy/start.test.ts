/**
 * `npm start` isolation and Ctrl-C (issue 13): two runs in one checkout each
 * get their own data folder and NATS server and both serve; a terminal's
 * Ctrl-C (SIGINT to the run's whole process group) drains each Rookery
 * process (gateway role, then node role) before the broker stops, and
 * leaves no process behind.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { main as cli } from "@rookery/cli";

const root = new URL("../..", import.meta.url).pathname;
const script = new URL("../../scripts/start.mjs", import.meta.url).pathname;

interface Run {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  wait(re: RegExp, ms: number): Promise<string>;
}
const runs: Run[] = [];

afterAll(() => {
  for (const run of runs) {
    if (run.child.exitCode === null) {
      try {
        process.kill(-run.child.pid!, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
});

/** `npm start` as a terminal runs it: the leader of its own process group. */
function startRun(): Run {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: root,
    env: { ...process.env, PORT: "0", NATS_URL: "", ROOKERY_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) w.resolve(line);
    });
  }
  const run: Run = {
    child,
    lines,
    exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    wait: (re, ms) => {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no line ${String(re)} in ${ms} ms:\n${lines.slice(-30).join("\n")}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
  runs.push(run);
  return run;
}

/** Every descendant of a process (children, grandchildren). */
function descendants(pid: number): number[] {
  const out = spawnSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" }).stdout;
  const pairs = out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [p, pp] of pairs) {
      if (pp === parent) {
        found.push(p);
        queue.push(p);
      }
    }
  }
  return found;
}

/** Running: a zombie (exited, not yet reaped by a PID 1 that may never reap it) does not count. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).stdout;
  return stat.trim() !== "" && !stat.trim().startsWith("Z");
}

describe("deploy - npm start", () => {
  it("start - two runs in one checkout both serve from their own data folders; Ctrl-C drains in order and leaves no process", async () => {
    const a = startRun();
    await a.wait(/data folder/, 30_000);
    const b = startRun();
    const served: { natsUrl: string; nkey: string; folder: string }[] = [];
    for (const run of [a, b]) {
      const demo = await run.wait(/demo page:/, 90_000);
      const base = /http:\/\/127\.0\.0\.1:\d+/.exec(demo)![0];
      expect((await fetch(`${base}/discover`)).status).toBe(200);
      const cliLine = await run.wait(/npx rookery nodes --server/, 5_000);
      const [, natsUrl, nkey] = /--server (\S+) --nkey (\S+)/.exec(cliLine)!;
      const folder = /data folder (\S+),/.exec(await run.wait(/data folder/, 1_000))![1]!;
      served.push({ natsUrl: natsUrl!, nkey: nkey!, folder });
      // Its processes' logs are shown, readable and prefixed (each child's
      // output comes through its own pipe: it may trail the demo line a little).
      await run.wait(/rookery-1\s+INFO\s+gateway: gateway ready/, 5_000);
      // The node metrics URLs are printed.
      await run.wait(/rookery-2: .*http:\/\/127\.0\.0\.1:\d+\/metrics \(node/, 5_000);
    }
    expect(served[0]!.folder).not.toBe(served[1]!.folder);
    expect(served[0]!.natsUrl).not.toBe(served[1]!.natsUrl);
    expect(b.lines.join("\n")).toContain(`in use by another npm start (pid ${a.child.pid}`);
    // Each run's CLI command lists that run's processes.
    for (const { natsUrl, nkey } of served) {
      const out: string[] = [];
      expect(
        await cli(["--server", natsUrl, "--nkey", `${root}${nkey}`, "--json", "nodes"], (l) =>
          out.push(l),
        ),
      ).toBe(0);
      expect(out.join("\n")).toContain("rookery-1");
      expect(out.join("\n")).toContain("rookery-2");
    }

    // Ctrl-C in a terminal: SIGINT to every process of the foreground group.
    const processes = [a, b].map((run) => descendants(run.child.pid!));
    for (const list of processes) expect(list.length).toBeGreaterThanOrEqual(3);
    for (const run of [a, b]) process.kill(-run.child.pid!, "SIGINT");
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    for (const pid of processes.flat())
      expect(alive(pid), `process ${pid} left behind`).toBe(false);
    for (const run of [a, b]) {
      const text = run.lines.join("\n");
      // Ordered by the time each line was logged: npm start relays every
      // process's output as it arrives, which can swap lines a millisecond apart.
      const loggedAt = (re: RegExp) => {
        const line = run.lines.find((l) => re.test(l));
        expect(line, String(re)).toBeDefined();
        return /^\d\d:\d\d:\d\d\.\d{3}/.exec(line!)![0];
      };
      for (const id of ["rookery-1", "rookery-2"]) {
        const gateway = loggedAt(new RegExp(`${id}\\s+INFO\\s+gateway: gateway drained`));
        const node = loggedAt(new RegExp(`${id}\\s+INFO\\s+node: node drained`));
        expect(node >= gateway, `${id} node drained (${node}) after its gateway (${gateway})`).toBe(
          true,
        );
        const nodeLine = text.search(new RegExp(`${id}\\s+INFO\\s+node: node drained`));
        expect(text.indexOf("nats-server stopped (exit 0)")).toBeGreaterThan(nodeLine);
      }
    }
  }, 180_000);
});
