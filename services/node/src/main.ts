/**
 * `node services/node/src/main.ts` (through tsx): one Rookery actor node,
 * configured by environment variables (docs/operations.md). SIGTERM or SIGINT
 * drains it and exits 0.
 */
import { pino } from "pino";
import { isInstrumented } from "@rookery/actors";
import { nodeConfigFromEnv } from "./config";
import { loadRooms } from "./load-rooms";
import { NodeService } from "./node-service";

const config = nodeConfigFromEnv();
const log = pino({ level: config.logLevel }).child({ node: config.id, component: "node" });

const rooms = await loadRooms(config.roomModules);
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
      log.error({ err: String(err) }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await service.start();
console.log(JSON.stringify({ event: "ready", id: config.id, metricsPort: service.metricsPort }));
