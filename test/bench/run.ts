/**
 * `npm run bench [-- name...]`: runs the named benchmarks (all by default),
 * against Rookery's build (`npm run build`, as production runs it) unless
 * BENCH_FROM_SOURCES=1 (the TypeScript sources through tsx).
 */
import { execFileSync } from "node:child_process";
import { runBudget } from "./budget";
import { runColyseus } from "./colyseus";
import { runCore } from "./core";
import { runGateway } from "./gateway";
import { runGatewayMemory } from "./gateway-memory";
import { runLiveness } from "./liveness";
import { runLoadBench } from "./load";
import { runMembers } from "./member-memory";
import { runNode } from "./node";

const benches: Record<string, () => Promise<void>> = {
  liveness: runLiveness,
  node: runNode,
  gateway: runGateway,
  "gateway-memory": runGatewayMemory,
  colyseus: runColyseus,
  load: runLoadBench,
  budget: runBudget,
  core: runCore,
  members: runMembers,
};
if (process.env.BENCH_FROM_SOURCES !== "1") {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: ["ignore", "ignore", "inherit"] });
  process.env.ROOKERY_TEST_DIST = "1";
}
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown benchmark ${name}: ${Object.keys(benches).join(", ")}`);
  await bench();
}
