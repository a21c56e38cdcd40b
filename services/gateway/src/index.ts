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
 */
export { Gateway } from "./gateway";
export { gatewayOptionsFromEnv } from "./config";
export { defaultGatewayOptions, GatewayConfigError, resolveGatewayOptions } from "./options";
export type { GatewayOptions, ResolvedGatewayOptions } from "./options";
export { originAllowed, TokenVerifier } from "./auth";
export type { TokenSecrets } from "./auth";
export { parseDiscoverQuery, pickGateway } from "./discovery";
export type { GatewayRecord } from "./discovery";
export type { LocalRoom, LocalRooms } from "./local-rooms";
