/**
 * @rookery/cli/internal: what the CLI's commands share and Rookery's tests
 * reuse: the NATS context (connection, bucket reader, control client) built
 * from flags and environment. Not a stable API; scripts use `main` from
 * `@rookery/cli`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { loadContext } from "@rookery/cli/internal";
 * ```
 */
export * from "./index";
export { loadContext } from "./context";
