/**
 * Cluster coordination on NATS KV: membership with heartbeat epochs, room
 * leases with fencing, expiry watchers that work on nats-server 2.9, a
 * cluster singleton and the sweeper duty.
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
export { ensureBuckets } from "./buckets";
export { envInt, envList } from "./env";
export {
  connectNats,
  loggedConnectRetry,
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
  isWrongLastSequence,
  JetStreamUnavailableError,
  LeaseHeldError,
  NotStartedError,
  OwnershipLostError,
} from "./errors";
export { FencedJournal, FencedKey, isFinalFenceError } from "./fencing";
export { FailStopReason, Heartbeat, newEpoch } from "./heartbeat";
export { LeaseManager } from "./leases";
export { DownReason, MembershipView } from "./membership";
export { clusterNames, dutyKey, leaseKey, presenceKey, processKey } from "./names";
export { defaultClusterOptions, resolveClusterOptions } from "./options";
export {
  decodeAny,
  decodeDutyRecord,
  decodeLeaseRecord,
  decodePresenceRecord,
  decodeProcessRecord,
  encodeRecord,
  ProcessRole,
} from "./records";
export { Singleton } from "./singleton";
export { Sweeper } from "./sweeper";

export type { ClusterBuckets } from "./buckets";
export type { ClusterMemberOptions } from "./cluster-member";
export type { AppendRetry, LivenessGuard } from "./fencing";
export type { HeartbeatEvents, ProcessIdentity } from "./heartbeat";
export type { AcquireResult, Lease, LeaseEvents } from "./leases";
export type { MembershipEvents } from "./membership";
export type { ClusterNames } from "./names";
export type { ClusterOptions, ResolvedClusterOptions } from "./options";
export type { DutyRecord, LeaseRecord, PresenceRecord, ProcessRecord } from "./records";
export type { SingletonEvents } from "./singleton";
