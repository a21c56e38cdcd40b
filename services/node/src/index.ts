/**
 * The Rookery actor node service.
 *
 * ```ts
 * import { NodeService, nodeConfigFromEnv, roomsOf } from "@rookery/node";
 * const service = new NodeService(nodeConfigFromEnv(), roomsOf(await import("./my-rooms")), logger);
 * await service.start();
 * process.on("SIGTERM", () => void service.stop());
 * ```
 */
export { ConfigError, nodeConfigFromEnv } from "./config";
export type { NodeConfig } from "./config";
export { NodeService, roomsOf } from "./node-service";
export { loadRooms } from "./load-rooms";
