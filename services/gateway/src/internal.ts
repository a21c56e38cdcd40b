/**
 * @rookery/gateway/internal: the gateway's parts that `@rookery/server` and
 * Rookery's tests reuse: the Origin allow-list,
 * discovery's choice of gateway, the hook through which a co-located node
 * serves its rooms in-process. Not a stable API; services embed `Gateway`
 * from `@rookery/gateway`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { originAllowed } from "@rookery/gateway/internal";
 *
 * originAllowed("https://evil.example", "gw-1.example.com", ["https://app.example.com"]); // false
 * ```
 */
export * from "./index";
export { originAllowed } from "./auth";
export { parseDiscoverQuery, pickGateway } from "./discovery";
export type { GatewayRecord } from "./discovery";
export type { LocalRoom, LocalRooms } from "./local-rooms";
