/**
 * @rookery/server/internal: the parser of `ROOKERY_ROLES`, shared with the
 * tests. Not a stable API; services use `serverConfigFromEnv` from
 * `@rookery/server`.
 *
 * @example
 * ```ts
 * import { parseRoles } from "@rookery/server/internal";
 *
 * parseRoles("gateway,node"); // { gateway: true, node: true }
 * ```
 */
export { parseRoles } from "./config";
