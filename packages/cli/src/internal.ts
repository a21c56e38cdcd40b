/**
 * @rookery/cli/internal: what the CLI's commands share and Rookery's tests
 * reuse: the NATS context (connection, bucket reader, control client) built
 * from flags and environment. Not a stable API; scripts use `main` from
 * `@rookery/cli`.
 *
 * @example
 * ```ts
 * import { loadContext } from "@rookery/cli/internal";
 * ```
 */
export { loadContext } from "./context";
