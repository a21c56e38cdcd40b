// Where nats-server is on this machine: on PATH, or Debian's /usr/sbin. Plain
// Node with no dependencies (setup.mjs runs before `npm ci`).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export function findNatsServer() {
  const onPath = spawnSync("sh", ["-c", "command -v nats-server"], { encoding: "utf8" });
  if (onPath.status === 0 && onPath.stdout.trim()) return onPath.stdout.trim();
  return existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : undefined;
}
