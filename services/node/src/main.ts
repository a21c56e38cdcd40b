/**
 * `node services/node/dist/main.js` (built; `node --import tsx
 * services/node/src/main.ts` in development): one Rookery actor node,
 * configured by environment variables (docs/operations.md). SIGTERM or SIGINT
 * drains it and exits 0.
 */
import { pino } from "pino";
import { isInstrumented } from "@rookery/actors/internal";
import { nodeConfigFromEnv, type NodeConfig } from "./config";
import { loadRooms } from "./load-rooms";
import { NodeService } from "./node-service";

const root = pino({ level: process.env.ROOKERY_LOG_LEVEL ?? "info" });

/** A start that cannot succeed: one clear line (no stack for known causes), exit 1. */
function startFailed(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && err instanceof Error) root.fatal({ code }, err.message);
  else root.fatal({ err }, "start failed");
  process.exit(1);
}

let config: NodeConfig;
try {
  config = nodeConfigFromEnv();
} catch (err) {
  startFailed(err);
}
root.level = config.logLevel;
const log = root.child({ node: config.id, component: "node" });

const rooms = await loadRooms(config.roomModules).catch(startFailed);
// Instrumented rooms run under cooperative budget checks; the others under the vm timeout.
log.info(
  {
    instrumented: rooms.filter((r) => isInstrumented(r)).map((r) => r.type),
    vmTimeout: rooms.filter((r) => !isInstrumented(r)).map((r) => r.type),
  },
  "room types loaded",
);
const service = new NodeService(config, rooms, log);
let exiting = false;
const shutdown = (signal: string) => {
  if (exiting) return;
  exiting = true;
  log.info({ signal }, "draining");
  service.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ err }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await service.start().catch(startFailed);
console.log(JSON.stringify({ event: "ready", id: config.id, metricsPort: service.metricsPort }));
