/**
 * The actor runtime's adapters for NATS: the only modules of
 * `@rookery/actors` that import `@nats-io/*`. `ActorHost` builds them from
 * its cluster member (`NatsHostCluster`, the host's cluster port).
 *
 * ```ts
 * import { NatsRoomStorage, NatsTransport } from "@rookery/actors/nats";
 *
 * const storage = await NatsRoomStorage.of(member, "auto");
 * const transport = new NatsTransport(member.nc);
 * ```
 */
export { NatsHostCluster } from "./nats-host-cluster";
export { NatsRoomStorage, PresenceListTimeoutError, purgeIsSafe } from "./nats-room-storage";
export type { JournalPurge } from "./nats-room-storage";
export { NatsTransport } from "./nats-transport";
