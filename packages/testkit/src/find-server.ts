/** Locating the nats-server executable. */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { NatsServerNotFoundError } from "./errors";

/** Where Debian's `nats-server` package installs the binary; /usr/sbin is often not on PATH. */
export const NATS_SERVER_FALLBACKS: readonly string[] = ["/usr/sbin/nats-server"];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds nats-server in the directories of `pathEnv`, then in `fallbacks`.
 * Separated from {@link findNatsServer} so the not-found path can be tested.
 */
export function locateNatsServer(
  pathEnv: string | undefined,
  fallbacks: readonly string[],
): string {
  const dirs = (pathEnv ?? "").split(delimiter).filter((d) => d.length > 0);
  const candidates = [...dirs.map((d) => join(d, "nats-server")), ...fallbacks];
  const found = candidates.find(isExecutable);
  if (found !== undefined) return found;
  const where = fallbacks.length > 0 ? ` or at ${fallbacks.join(", ")}` : "";
  throw new NatsServerNotFoundError(
    `nats-server not found on PATH${where}: ` +
      "install it with `apt-get install -y nats-server` (as root) or put a nats-server binary on PATH",
  );
}

/** Path of the nats-server executable: on PATH, else /usr/sbin/nats-server. */
export function findNatsServer(): string {
  return locateNatsServer(process.env["PATH"], NATS_SERVER_FALLBACKS);
}
