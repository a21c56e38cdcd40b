/**
 * @rookery/client/internal: SDK internals shared with Rookery's own tests
 * and tools (the reconnect backoff curve). Not a stable API; applications
 * use `@rookery/client`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "@rookery/client/internal";
 *
 * const waitMs = backoffDelay(3, 250, 10_000); // before the 4th reconnect attempt
 * ```
 */
export * from "./index";
export { backoffDelay } from "./backoff";
