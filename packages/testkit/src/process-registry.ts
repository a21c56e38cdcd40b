/**
 * Module-level registry of everything the test kit started, so a crashed or aborted test run
 * never leaves nats-server processes or temp dirs behind.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Only synchronous work is possible in an "exit" handler: signal and rmSync.
  process.on("exit", () => {
    for (const child of liveChildren) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
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
