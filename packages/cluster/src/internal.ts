/**
 * @rookery/cluster/internal: the building blocks Rookery's actor runtime and
 * services wire together (fenced writes, lease and heartbeat classes, the
 * record codec, KV keys, bucket provisioning, environment parsing). Not a
 * stable API; applications and operators use `@rookery/cluster`.
 * It re-exports the public entry as well, so one import line serves both.
 *
 * @example
 * ```ts
 * import { decodeLeaseRecord, leaseKey } from "@rookery/cluster/internal";
 *
 * const entry = await member.buckets.leases.get(leaseKey("chess", "g42"));
 * const lease = entry ? decodeLeaseRecord(entry.value) : undefined;
 * ```
 */
export * from "./index";
export { ensureBuckets } from "./buckets";
export { envInt, envList } from "./env";
export { isWrongLastSequence } from "./errors";
export { scanKeys } from "./key-scan";
export type { KeyScan } from "./key-scan";
export { FencedJournal, FencedKey, isFinalFenceError } from "./fencing";
export type { AppendRetry, LivenessGuard } from "./fencing";
export { Heartbeat, newEpoch } from "./heartbeat";
export { HotCounter, HotHistogram } from "./hot-metrics";
export { LeaseManager } from "./leases";
export { MembershipView } from "./membership";
export { loggedConnectRetry } from "./nats-connection";
export { dutyKey, leaseKey, presenceKey, processKey } from "./names";
export {
  decodeAny,
  decodeDutyRecord,
  decodeLeaseRecord,
  decodePresenceRecord,
  decodeProcessRecord,
  encodeRecord,
} from "./records";
export { Singleton } from "./singleton";
export { Sweeper } from "./sweeper";
