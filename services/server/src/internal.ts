/**
 * @rookery/server/internal: the parser of `ROOKERY_ROLES`, shared with the
 * tests. Not a stable API; services use `serverConfigFromEnv` from
 * `@rookery/server`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { parseRoles } from "@rookery/server/internal";
 *
 * parseRoles("gateway,node"); // { gateway: true, node: true }
 * ```
 */
export * from "./index";
export { parseRoles } from "./config";
