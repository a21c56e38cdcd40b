/**
 * `node services/gateway/dist/main.js` (built; `node --import tsx
 * services/gateway/src/main.ts` in development): one Rookery gateway,
 * configured by environment variables (docs/operations.md). SIGTERM or
 * SIGINT drains it (clients are told to reconnect elsewhere) and exits 0.
 */
import { pino } from "pino";
import { gatewayOptionsFromEnv } from "./config";
import { Gateway } from "./gateway";

const logger = pino({ level: process.env.ROOKERY_LOG_LEVEL ?? "info" });

/** A start that cannot succeed: one clear line (no stack for known causes), exit 1. */
function startFailed(err: unknown): never {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && err instanceof Error) logger.fatal({ code }, err.message);
  else logger.fatal({ err }, "start failed");
  process.exit(1);
}

let gateway: Gateway;
try {
  gateway = new Gateway({ ...gatewayOptionsFromEnv(), logger });
} catch (err) {
  startFailed(err);
}

let exiting = false;
const shutdown = (signal: string) => {
  if (exiting) return;
  exiting = true;
  gateway.log.info({ signal }, "stopping");
  gateway.stop().then(
    () => {
      gateway.log.info("gateway drained");
      process.exit(0);
    },
    (err: unknown) => {
      gateway.log.error({ err }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await gateway.start().catch(startFailed);
console.log(
  JSON.stringify({
    event: "ready",
    id: gateway.id,
    url: gateway.url,
    port: gateway.port,
    adminPort: gateway.adminPort || undefined,
  }),
);
