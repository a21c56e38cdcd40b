/**
 * @rookery/server: one Rookery process playing the gateway role, the actor
 * node role, or both (the co-located shape: one process per core).
 *
 * ```ts
 * import { RookeryServer, serverConfigFromEnv } from "@rookery/server";
 * import { loadRooms } from "@rookery/node";
 *
 * const config = serverConfigFromEnv(); // ROOKERY_ROLES=gateway,node by default
 * const server = new RookeryServer(config, await loadRooms(["./my-rooms.js"]), logger);
 * await server.start();
 * process.on("SIGTERM", () => void server.stop());
 * ```
 */
export { RookeryServer } from "./server";
export { serverConfigFromEnv } from "./config";
export type { Roles, ServerConfig } from "./config";
