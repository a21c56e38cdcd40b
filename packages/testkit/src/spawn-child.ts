/** Child Node processes running a TypeScript script, for crash and partition tests. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { ChildExitedError, ChildLineTimeoutError, ChildSpawnError } from "./errors";
import { eachLine, LineTail } from "./output-lines";
import { exitOf, trackChild, waitUntilStopped } from "./process-registry";

export interface SpawnChildOptions {
  /** Path of a `.ts` (or `.js`) file, run with `node --import tsx`; relative to the cwd. */
  script: string;
  /** Arguments after the script path. @default [] */
  args?: string[];
  /** Variables added to this process's environment. @default {} */
  env?: Record<string, string>;
}

export interface ChildHandle {
  pid: number;
  /** stdout lines so far; the array grows as the child writes. */
  lines: string[];
  /** First stdout line, seen so far or later, matching `re`; rejects on timeout or exit. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string>;
  /** Sends `signal` (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Exit code, null when ended by a signal. Never rejects. */
  exited: Promise<number | null>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Waiter {
  re: RegExp;
  resolve: (line: string) => void;
  reject: (error: Error) => void;
}

/** tsx's loader as a file URL, so `--import` works whatever the child's cwd is. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
}

function matches(re: RegExp, line: string): boolean {
  return line.search(re) !== -1;
}

function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
}

/** Output bookkeeping of one child: stdout lines, stderr tail and pending line waiters. */
class ChildOutput {
  readonly lines: string[] = [];
  readonly stderr = new LineTail();
  readonly #waiters = new Set<Waiter>();
  #closed: string | undefined;

  constructor(
    child: ChildProcess,
    readonly script: string,
  ) {
    if (child.stdout) eachLine(child.stdout, (line) => this.#onLine(line));
    if (child.stderr) eachLine(child.stderr, (line) => this.stderr.push(line));
    // "close" comes after the last output line, unlike "exit".
    child.once("close", (code, signal) => this.#onClose(signal ?? `code ${String(code)}`));
  }

  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((line) => matches(re, line));
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#closed !== undefined) return Promise.reject(this.#exitedError(re, this.#closed));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(this.#timeoutError(re, timeoutMs));
      }, timeoutMs);
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          fn(a);
        };
      const waiter: Waiter = { re, resolve: settle(resolve), reject: settle(reject) };
      this.#waiters.add(waiter);
    });
  }

  #onLine(line: string): void {
    this.lines.push(line);
    for (const waiter of [...this.#waiters]) if (matches(waiter.re, line)) waiter.resolve(line);
  }

  #onClose(how: string): void {
    this.#closed = how;
    for (const waiter of [...this.#waiters]) waiter.reject(this.#exitedError(waiter.re, how));
  }

  #context(): string {
    const stdout = new LineTail(20, 5);
    for (const line of this.lines) stdout.push(line);
    return `${stdout.format("stdout")}${this.stderr.format("stderr")}`;
  }

  #exitedError(re: RegExp, how: string): Error {
    return new ChildExitedError(
      `child ${this.script} exited (${how}) before printing a line matching ${String(re)}` +
        this.#context(),
    );
  }

  #timeoutError(re: RegExp, timeoutMs: number): Error {
    return new ChildLineTimeoutError(
      `child ${this.script} printed no line matching ${String(re)} within ${timeoutMs} ms` +
        this.#context(),
    );
  }
}

function handleOf(child: ChildProcess, pid: number, output: ChildOutput): ChildHandle {
  const exited = exitOf(child);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let paused = false;
  const pause = (): void => {
    if (!running() || !child.kill("SIGSTOP")) return;
    paused = true;
    if (child.pid !== undefined) waitUntilStopped(child.pid);
  };
  const resume = (): void => {
    if (running()) child.kill("SIGCONT");
    paused = false;
  };
  const kill = async (signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    if (running()) {
      child.kill(signal);
      // A stopped process only acts on most signals once continued.
      if (paused && signal !== "SIGKILL") resume();
    }
    await exited;
  };
  return {
    pid,
    lines: output.lines,
    waitForLine: (re, timeoutMs) => output.waitForLine(re, timeoutMs),
    kill,
    pause,
    resume,
    exited,
    [Symbol.asyncDispose]: () => kill("SIGKILL"),
  };
}

/**
 * Runs `node --import tsx <script> ...args` with stdout captured line by line and stderr kept
 * for error messages. The child is SIGKILLed when this process exits.
 */
export async function spawnChild(opts: SpawnChildOptions): Promise<ChildHandle> {
  const script = resolvePath(opts.script);
  if (!existsSync(script)) throw new ChildSpawnError(`child script not found: ${script}`);
  const child = spawn(process.execPath, ["--import", tsxLoader(), script, ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  trackChild(child);
  const output = new ChildOutput(child, script);
  try {
    await spawned(child);
  } catch (error) {
    throw new ChildSpawnError(`could not spawn child ${script}: ${String(error)}`, {
      cause: error,
    });
  }
  const pid = child.pid;
  if (pid === undefined) throw new ChildSpawnError(`child ${script} has no pid`);
  return handleOf(child, pid, output);
}
