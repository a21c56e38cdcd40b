import { natsAuthFromEnv } from "@rookery/cluster";
import { envInt, envList } from "@rookery/cluster/internal";
import type { ProtocolLimits } from "@rookery/protocol";
import { GatewayConfigError, type GatewayOptions } from "./options";

/**
 * Gateway options from the environment, parsed and validated once
 * (docs/operations.md lists every variable).
 */
export function gatewayOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  return {
    natsUrl: envList(env.NATS_URL),
    natsAuth: natsAuthFromEnv(env, "gateway", (message) => new GatewayConfigError(message)),
    id: env.ROOKERY_ID || undefined,
    region: env.ROOKERY_REGION || undefined,
    prefix: env.ROOKERY_PREFIX || undefined,
    replicas: int(env, "ROOKERY_REPLICAS", 1, 5),
    heartbeatTtlMs: int(env, "ROOKERY_HEARTBEAT_TTL_MS", 300, 60_000),
    heartbeatTags: envList(env.ROOKERY_HEARTBEAT_TAGS),
    host: env.ROOKERY_GATEWAY_HOST || undefined,
    port: int(env, "ROOKERY_GATEWAY_PORT", 0, 65_535),
    adminPort: int(env, "ROOKERY_ADMIN_PORT", 0, 65_535),
    publicUrl: env.ROOKERY_PUBLIC_URL || undefined,
    secret: env.ROOKERY_TOKEN_SECRET || undefined,
    secrets: tokenSecrets(env.ROOKERY_TOKEN_SECRETS),
    allowedOrigins: origins(env.ROOKERY_ALLOWED_ORIGINS),
    reconnectGraceMs: int(env, "ROOKERY_RECONNECT_GRACE_MS", 0, 600_000),
    drainMs: int(env, "ROOKERY_DRAIN_MS", 0, 600_000),
    totalWaitMs: int(env, "ROOKERY_ROOM_WAIT_MS", 100, 600_000),
    demo: env.ROOKERY_DEMO === "1" || env.ROOKERY_DEMO === "true",
    limits: limitsFromEnv(env),
  };
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;

/** `ROOKERY_TOKEN_SECRETS=kid1:secret1,kid2:secret2` (a secret holds no comma). */
export function tokenSecrets(text: string | undefined): Record<string, string> | undefined {
  const items = envList(text);
  if (!items) return undefined;
  const secrets: Record<string, string> = {};
  for (const item of items) {
    const colon = item.indexOf(":");
    const kid = item.slice(0, colon);
    if (colon < 0 || !KID.test(kid) || kid in secrets) {
      throw new GatewayConfigError(
        "ROOKERY_TOKEN_SECRETS must be a comma list of <kid>:<secret>, kids [A-Za-z0-9._-]{1,64} and distinct",
      );
    }
    secrets[kid] = item.slice(colon + 1);
  }
  return secrets;
}

/** `ROOKERY_ALLOWED_ORIGINS`: `*` or origins such as `https://game.example:8443`. */
export function origins(text: string | undefined): string[] | undefined {
  return envList(text)?.map((origin) => {
    if (origin === "*") return origin;
    try {
      const url = new URL(origin);
      if (url.origin !== "null" && url.pathname === "/" && !url.search) return url.origin;
    } catch {
      // reported below
    }
    throw new GatewayConfigError(
      `ROOKERY_ALLOWED_ORIGINS must list * or origins like https://game.example, got ${JSON.stringify(origin)}`,
    );
  });
}

function limitsFromEnv(env: NodeJS.ProcessEnv): ProtocolLimits {
  return {
    maxFrameBytes: int(env, "ROOKERY_MAX_FRAME_BYTES", 64, 16 * 1024 * 1024),
    maxRooms: int(env, "ROOKERY_MAX_ROOMS", 1, 10_000),
    ratePerSec: int(env, "ROOKERY_RATE_PER_SEC", 1, 1_000_000),
    burst: int(env, "ROOKERY_BURST", 1, 1_000_000),
    heartbeatMs: int(env, "ROOKERY_CLIENT_HEARTBEAT_MS", 100, 3_600_000),
    idleTimeoutMs: int(env, "ROOKERY_IDLE_TIMEOUT_MS", 200, 3_600_000),
  };
}

function int(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  return envInt(env, name, min, max, (message) => new GatewayConfigError(message));
}
