/**
 * Cluster coordination on NATS KV: membership with heartbeat epochs, room
 * leases with fencing, expiry watchers that work on nats-server 2.9, a
 * cluster singleton and the sweeper duty. This entry is for services that
 * embed a cluster member and for operators (connection, credentials,
 * permissions, the records in the buckets); the building blocks the actor
 * runtime and the services wire together are in `@rookery/cluster/internal`.
 *
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { ClusterMember } from "@rookery/cluster";
 *
 * const nc = await connect({ servers: process.env.NATS_URL });
 * const member = new ClusterMember(nc, { identity: { id: "node-1", role: "node" } });
 * await member.start();
 * member.heartbeat.on("failstop", () => stopEveryActor());
 * const placed = await member.leases.acquire("chess", "game-42");
 * if (placed.acquired) console.log("room epoch", placed.lease.roomEpoch);
 * ```
 */
export {
  connectNats,
  natsAuthFromEnv,
  NatsAuthConfigError,
  NatsConnectError,
  natsConnectionOptions,
} from "./nats-connection";
export type { ConnectRetry, NatsAuth, NatsAuthRole, NatsTlsFiles } from "./nats-connection";
export { createRoleKeys, writeNatsAuth } from "./nats-keys";
export type { NatsAuthFiles, NatsRoleKey } from "./nats-keys";
export { NATS_USER_ROLES, renderAuthorization, rolePermissions } from "./permissions";
export type { NatsPermissions, NatsUserEntry, NatsUserRole, PermissionScope } from "./permissions";
export { ClusterMember } from "./cluster-member";
export {
  BucketIncompatibleError,
  ClusterError,
  ClusterErrorCode,
  clusterErrorDescriptions,
  FailStoppedError,
  InvalidNameError,
  InvalidRecordError,
  JetStreamUnavailableError,
  LeaseHeldError,
  NotStartedError,
  OwnershipLostError,
} from "./errors";
export { FailStopReason } from "./heartbeat";
export { DownReason } from "./membership";
export { clusterNames } from "./names";
export { defaultClusterOptions, resolveClusterOptions } from "./options";
export { ProcessRole } from "./records";
export { RoomRouter } from "./room-router";
export { NoRespondersError, RequestAbortedError, RequestTimeoutError } from "./request-mux";

export type { ClusterBuckets } from "./buckets";
export type { ClusterMemberOptions } from "./cluster-member";
export type { Heartbeat, HeartbeatEvents, ProcessIdentity } from "./heartbeat";
export type { AcquireResult, Lease, LeaseEvents, LeaseManager } from "./leases";
export type { MembershipEvents, MembershipView } from "./membership";
export type { ClusterNames } from "./names";
export type { ClusterOptions, ResolvedClusterOptions } from "./options";
export type { DutyRecord, LeaseRecord, PresenceRecord, ProcessRecord } from "./records";
export type { RoomRouterOptions } from "./room-router";
export type { Singleton, SingletonEvents } from "./singleton";
