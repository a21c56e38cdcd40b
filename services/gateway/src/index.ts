/**
 * @rookery/gateway: the WebSocket edge of a Rookery cluster.
 *
 * ```ts
 * import { Gateway } from "@rookery/gateway";
 *
 * const gateway = new Gateway({ natsUrl: ["nats://127.0.0.1:4222"], secret: process.env.ROOKERY_TOKEN_SECRET, port: 8080 });
 * await gateway.start();       // ws://127.0.0.1:8080/ws, GET /discover, /healthz, /readyz, /metrics
 * await gateway.stop();        // drain: clients get `reconnect`, then close 4011
 * ```
 *
 * `TokenVerifier` signs tokens (for an issuing backend) and checks them. The
 * Origin check, discovery's choice and the co-located room hook, which
 * `@rookery/server` and the tests reuse, are in `@rookery/gateway/internal`.
 */
export { Gateway } from "./gateway";
export { gatewayOptionsFromEnv } from "./config";
export { defaultGatewayOptions, GatewayConfigError, resolveGatewayOptions } from "./options";
export type { GatewayOptions, ResolvedGatewayOptions } from "./options";
export { TokenVerifier } from "./auth";
export type { TokenSecrets } from "./auth";
