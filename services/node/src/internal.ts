/**
 * @rookery/node/internal: the node's Prometheus metrics, which the
 * co-located server and the tests reuse. Not a stable API; services embed
 * `NodeService` from `@rookery/node`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { NodeMetrics } from "@rookery/node/internal";
 * ```
 */
export * from "./index";
export { NodeMetrics } from "./metrics";
