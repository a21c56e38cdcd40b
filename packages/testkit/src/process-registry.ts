/**
 * Module-level registry of everything the test kit started, so a crashed or aborted test run
 * never leaves nats-server processes or temp dirs behind.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooked = false;

const TERMINATING_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];

/** Synchronous on purpose: it also runs from an "exit" handler. */
function cleanUp(): void {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  liveChildren.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a dying server may still write; leaving a temp dir beats failing the exit
    }
  }
  liveDirs.clear();
}

function onTerminatingSignal(signal: NodeJS.Signals): void {
  cleanUp();
  // Keep the default outcome (death by that signal) unless someone else handles it.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", cleanUp);
  // Vitest ends its fork workers with SIGTERM, which skips "exit" handlers.
  for (const signal of TERMINATING_SIGNALS) process.once(signal, onTerminatingSignal);
}

/** Tracks a child process until it exits; SIGKILLed if this process exits first. */
export function trackChild(child: ChildProcess): void {
  hookExit();
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  child.once("error", () => liveChildren.delete(child));
}

/** Tracks a temp dir; removed when this process exits unless untracked before. */
export function trackDir(dir: string): void {
  hookExit();
  liveDirs.add(dir);
}

export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}

/** Resolves with the exit code (null when killed by a signal) once the child has exited. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode);
  }
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    // "error" without "exit" only happens when the process could not be spawned at all.
    child.once("error", () => {
      if (child.pid === undefined) resolve(null);
    });
  });
}

/**
 * SIGSTOP is delivered asynchronously: wait (synchronously, bounded) until the
 * kernel reports the process stopped, so a test's next step really meets a
 * frozen process.
 */
export function waitUntilStopped(pid: number, timeoutMs = 1000): void {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return; // gone, or no procfs: nothing to wait for
    }
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "T" || state === "t") return;
    Atomics.wait(sleeper, 0, 0, 2);
  }
}
