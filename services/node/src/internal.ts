/**
 * @rookery/node/internal: the node's Prometheus metrics, which the
 * co-located server and the tests reuse. Not a stable API; services embed
 * `NodeService` from `@rookery/node`.
 *
 * @example
 * ```ts
 * import { NodeMetrics } from "@rookery/node/internal";
 * ```
 */
export { NodeMetrics } from "./metrics";
