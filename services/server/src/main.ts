/**
 * `node --import tsx services/server/src/main.ts`: one Rookery process, by
 * default both gateway and actor node (`ROOKERY_ROLES`), configured by
 * environment variables (docs/operations.md). SIGTERM or SIGINT drains it
 * and exits 0.
 */
import { pino } from "pino";
import { loadRooms } from "@rookery/node";
import { serverConfigFromEnv } from "./config";
import { RookeryServer } from "./server";

const config = serverConfigFromEnv();
const log = pino({ level: config.node.logLevel });
const server = new RookeryServer(config, await loadRooms(config.node.roomModules), log);

let exiting = false;
const shutdown = (signal: string) => {
  if (exiting) return;
  exiting = true;
  log.info({ node: server.id, signal }, "draining");
  server.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      log.error({ node: server.id, err }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await server.start();
console.log(
  JSON.stringify({
    event: "ready",
    id: server.id,
    roles: config.roles,
    url: server.gateway?.url,
    port: server.gateway?.port,
    metricsPort: server.node?.metricsPort,
  }),
);
