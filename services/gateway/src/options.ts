import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { NatsAuth } from "@rookery/cluster";
import {
  DEFAULT_PREFIX,
  resolveProtocolLimits,
  type ProtocolLimits,
  type ResolvedProtocolLimits,
} from "@rookery/protocol";

/** Everything a gateway can be told; every field is optional except the token secret. */
export interface GatewayOptions {
  /** NATS servers. @default ["nats://127.0.0.1:4222"] */
  natsUrl?: string[];
  /** NATS credentials and TLS (docs/security.md). @default none: an open server, plain TCP */
  natsAuth?: NatsAuth;
  /** Gateway id (unique in the cluster). @default "<hostname>-<random>" */
  id?: string;
  /** Region announced to discovery. @default "local" */
  region?: string;
  /** Namespace of subjects and buckets. @default "rk" */
  prefix?: string;
  /** KV replicas of the buckets this gateway creates. @default 1 */
  replicas?: number;
  /** Heartbeat TTL of the gateway's `rk_nodes` key. @default 3000 */
  heartbeatTtlMs?: number;
  /** Per-server heartbeat placement tags (docs/cluster.md). @default [] */
  heartbeatTags?: string[];
  /** Interface to listen on. @default "0.0.0.0" */
  host?: string;
  /** HTTP/WebSocket port; 0 picks a free one. @default 8080 */
  port?: number;
  /**
   * A separate port for `/metrics`, `/healthz` and `/readyz` (0 picks a free
   * one); the public port then no longer serves `/metrics`. @default none
   */
  adminPort?: number;
  /** WebSocket URL clients should use, as announced by discovery. @default "ws://<host>:<port>/ws" */
  publicUrl?: string;
  /**
   * HMAC secret of the HS256 client tokens without a `kid` header, at least
   * 32 characters. A gateway needs it or {@link secrets} (docs/protocol.md §3).
   */
  secret?: string;
  /**
   * Secrets by JWT `kid`, for rotation: a token with a `kid` header is
   * verified with that key only. The last entry signs the demo tokens.
   * @default {}
   */
  secrets?: Record<string, string>;
  /**
   * Browser origins allowed to open a WebSocket (`Origin` header, e.g.
   * `https://game.example`); `*` allows any. A request without an Origin
   * (not a browser) and a page of the gateway's own origin are always
   * allowed. Others are refused with HTTP 403 before the handshake.
   * @default ["*"] unless NODE_ENV is "production", then none but the gateway's own
   */
  allowedOrigins?: string[];
  /** Per-connection limits announced in `welcome` (docs/protocol.md §9). @default defaultProtocolLimits() */
  limits?: ProtocolLimits;
  /** How long a member whose socket closed stays in its rooms, waiting for a resume. @default 5000 */
  reconnectGraceMs?: number;
  /** How long a draining gateway waits for clients to move before closing them (4011). @default 5000 */
  drainMs?: number;
  /** Wait for one room reply before resending (see RoomRouter). @default 500 */
  requestTimeoutMs?: number;
  /**
   * How long a room request is waited for, counted from when the client's
   * frame arrived, resending the same frame meanwhile (rooms dedupe inputs
   * and answer a resend with the original outcome). Long enough to ride out
   * a JetStream stream leader election (appends stall 4.5-7 s on
   * nats-server 2.9) or a failover; then the client gets ROOM_UNAVAILABLE,
   * which for an input means "outcome unknown" (docs/protocol.md §6).
   * @default 20000
   */
  totalWaitMs?: number;
  /** Bytes a socket may have queued for sending before it is closed as a slow consumer (4009). @default 2097152 */
  maxBufferedBytes?: number;
  /** Serve the demo page at `/` and dev tokens at `/demo/token` (never in production). @default false */
  demo?: boolean;
  /** Log lines of the same rejection are written once per this window. @default 60000 */
  logDedupeMs?: number;
  /** @default a pino logger at level "info" */
  logger?: Logger;
}

export interface ResolvedGatewayOptions extends Required<
  Omit<GatewayOptions, "limits" | "logger" | "publicUrl" | "secret" | "natsAuth" | "adminPort">
> {
  adminPort: number | undefined;
  limits: ResolvedProtocolLimits;
  publicUrl: string | undefined;
  /** The key of tokens without `kid`; undefined when only {@link secrets} are set. */
  secret: string | undefined;
  natsAuth: NatsAuth | undefined;
  logger: Logger | undefined;
}

export class GatewayConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  override readonly name = "GatewayConfigError";
}

/** A fresh object with every default (the secret has none). */
export function defaultGatewayOptions(): Omit<ResolvedGatewayOptions, "secret"> {
  return {
    natsUrl: ["nats://127.0.0.1:4222"],
    natsAuth: undefined,
    id: `${hostname().replace(/[^A-Za-z0-9_-]/g, "-")}-${randomBytes(3).toString("hex")}`,
    region: "local",
    prefix: DEFAULT_PREFIX,
    replicas: 1,
    heartbeatTtlMs: 3000,
    heartbeatTags: [],
    host: "0.0.0.0",
    port: 8080,
    adminPort: undefined,
    publicUrl: undefined,
    secrets: {},
    allowedOrigins: process.env.NODE_ENV === "production" ? [] : ["*"],
    limits: resolveProtocolLimits(),
    reconnectGraceMs: 5000,
    drainMs: 5000,
    requestTimeoutMs: 500,
    totalWaitMs: 20_000,
    maxBufferedBytes: 2 * 1024 * 1024,
    demo: false,
    logDedupeMs: 60_000,
    logger: undefined,
  };
}

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const secrets = options.secrets ?? {};
  if (options.secret === undefined && Object.keys(secrets).length === 0) {
    throw new GatewayConfigError(
      "a token secret is required (ROOKERY_TOKEN_SECRET or ROOKERY_TOKEN_SECRETS)",
    );
  }
  for (const [kid, secret] of [["", options.secret] as const, ...Object.entries(secrets)]) {
    if (secret !== undefined && secret.length < 32) {
      const which = kid ? `the secret of kid ${JSON.stringify(kid)}` : "ROOKERY_TOKEN_SECRET";
      throw new GatewayConfigError(`${which} must be at least 32 characters`);
    }
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const resolved: ResolvedGatewayOptions = {
    ...defaultGatewayOptions(),
    ...defined,
    limits: resolveProtocolLimits(options.limits),
    secret: options.secret,
    secrets: { ...secrets },
  };
  if (resolved.maxBufferedBytes < resolved.limits.maxServerFrameBytes) {
    throw new GatewayConfigError("maxBufferedBytes must hold at least one maximal server frame");
  }
  return resolved;
}
