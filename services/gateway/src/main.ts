/**
 * `node --import tsx services/gateway/src/main.ts`: one Rookery gateway,
 * configured by environment variables (docs/operations.md). SIGTERM or
 * SIGINT drains it (clients are told to reconnect elsewhere) and exits 0.
 */
import { pino } from "pino";
import { gatewayOptionsFromEnv } from "./config";
import { Gateway } from "./gateway";

const options = gatewayOptionsFromEnv();
const logger = pino({ level: process.env.ROOKERY_LOG_LEVEL ?? "info" });
const gateway = new Gateway({ ...options, logger });

let exiting = false;
const shutdown = (signal: string) => {
  if (exiting) return;
  exiting = true;
  gateway.log.info({ signal }, "stopping");
  gateway.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      gateway.log.error({ err: String(err) }, "drain failed");
      process.exit(1);
    },
  );
};
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
await gateway.start();
console.log(
  JSON.stringify({ event: "ready", id: gateway.id, url: gateway.url, port: gateway.port }),
);
