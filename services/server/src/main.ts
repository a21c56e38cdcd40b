/**
 * `node services/server/dist/main.js` (built; `node --import tsx
 * services/server/src/main.ts` in development): one Rookery process, by
 * default both gateway and actor node (`ROOKERY_ROLES`), configured by
 * environment variables (docs/operations.md). SIGTERM or SIGINT drains it
 * (the gateway role first, then the node role) and exits 0.
 */
import { pino } from "pino";
import { loadRooms } from "@rookery/node";
import { serverConfigFromEnv, type ServerConfig } from "./config";
import { RookeryServer } from "./server";

const log = pino({ level: process.env.ROOKERY_LOG_LEVEL ?? "info" });

/** A start that cannot succeed: one clear line (no stack for known causes), exit 1. */
function startFailed(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && err instanceof Error) log.fatal({ code }, err.message);
  else log.fatal({ err }, "start failed");
  process.exit(1);
}

let config: ServerConfig;
try {
  config = serverConfigFromEnv();
} catch (err) {
  startFailed(err);
}
log.level = config.node.logLevel;
const server = new RookeryServer(
  config,
  await loadRooms(config.node.roomModules).catch(startFailed),
  log,
);

let exiting = false;
const shutdown = (signal: string) => {
  if (exiting) return;
  exiting = true;
  log.info({ node: server.id, signal }, "draining");
  server.stop().then(
    () => {
      log.info({ node: server.id }, "stopped");
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ node: server.id, err }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await server.start().catch(startFailed);
console.log(
  JSON.stringify({
    event: "ready",
    id: server.id,
    roles: config.roles,
    url: server.gateway?.url,
    port: server.gateway?.port,
    adminPort: server.gateway?.adminPort || undefined,
    metricsPort: server.node?.metricsPort,
  }),
);
