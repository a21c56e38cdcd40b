import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { natsAuthFromEnv, type NatsAuth } from "@rookery/cluster";
import { envInt, envList } from "@rookery/cluster/internal";

/** Node service configuration, parsed and validated once from the environment. */
export interface NodeConfig {
  natsUrl: string[];
  /** Credentials and TLS (`NATS_NODE_*` / `NATS_CREDS`, `NATS_NKEY`, `NATS_TLS_*`; docs/security.md). */
  natsAuth: NatsAuth;
  id: string;
  region: string;
  prefix: string;
  replicas: number;
  heartbeatTtlMs: number;
  heartbeatTags: string[];
  metricsPort: number;
  capacity: number;
  idleMs: number;
  /** Time budget of one room handler call; 0 runs handlers without one (and without its cost). */
  handlerBudgetMs: number;
  /** Extra room modules to load (paths or package names), each exporting room definitions. */
  roomModules: string[];
  logLevel: string;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  override readonly name = "ConfigError";
}

export function nodeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  return {
    natsUrl: envList(env.NATS_URL) ?? ["nats://127.0.0.1:4222"],
    natsAuth: natsAuthFromEnv(env, "node", (message) => new ConfigError(message)),
    id:
      env.ROOKERY_ID ??
      `${hostname().replace(/[^A-Za-z0-9_-]/g, "-")}-${randomBytes(3).toString("hex")}`,
    region: env.ROOKERY_REGION ?? "local",
    prefix: env.ROOKERY_PREFIX ?? "rk",
    replicas: int(env, "ROOKERY_REPLICAS", 1, 1, 5),
    heartbeatTtlMs: int(env, "ROOKERY_HEARTBEAT_TTL_MS", 3000, 300, 60_000),
    heartbeatTags: envList(env.ROOKERY_HEARTBEAT_TAGS) ?? [],
    metricsPort: int(env, "ROOKERY_METRICS_PORT", 9101, 0, 65_535),
    capacity: int(env, "ROOKERY_CAPACITY", 50_000, 1, 10_000_000),
    idleMs: int(env, "ROOKERY_IDLE_MS", 60_000, 0, 86_400_000),
    handlerBudgetMs: int(env, "ROOKERY_HANDLER_BUDGET_MS", 250, 0, 60_000),
    roomModules: envList(env.ROOKERY_ROOM_MODULES) ?? [],
    logLevel: env.ROOKERY_LOG_LEVEL ?? "info",
  };
}

function int(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  return envInt(env, name, min, max, (message) => new ConfigError(message)) ?? fallback;
}
