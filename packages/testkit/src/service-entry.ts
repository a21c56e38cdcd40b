import { existsSync } from "node:fs";
import { ChildSpawnError } from "./errors";

/** A Rookery service that tests and benchmarks run as a child process. */
export type ServiceName = "gateway" | "node" | "server";

/**
 * The entry point of a service: its TypeScript source (run through tsx), or,
 * when `ROOKERY_TEST_DIST=1`, the build that production runs (`npm run build`,
 * `services/<name>/dist/main.js`). The benchmarks measure the build: tsx adds
 * esbuild's `keepNames` to every closure of the sources, which alone was 5% of
 * a co-located process's busy time under load.
 */
export function serviceEntry(name: ServiceName): string {
  const built = process.env.ROOKERY_TEST_DIST === "1";
  const path = new URL(
    built ? `../../../services/${name}/dist/main.js` : `../../../services/${name}/src/main.ts`,
    import.meta.url,
  ).pathname;
  if (built && !existsSync(path)) {
    throw new ChildSpawnError(`${path} is missing: run \`npm run build\` first`);
  }
  return path;
}
