import { InvalidNameError } from "./errors";

/**
 * Names of every bucket, stream and subject the cluster layer uses, derived
 * from one prefix so that tests (and tenants) can share a server.
 */
export interface ClusterNames {
  prefix: string;
  /** The heartbeat buckets: `rk_nodes`, or `rk_nodes_<i>` when there is one per server. */
  nodesBuckets(count: number): string[];
  leasesBucket: string;
  presenceBucket: string;
  stateBucket: string;
  journalStream: string;
  /** Subject a process-down announcement is published on. */
  processDown: string;
  journalSubject(type: string, id: string): string;
}

const PREFIX = /^[a-z][a-z0-9_]{0,47}$/;
const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

export function clusterNames(prefix: string): ClusterNames {
  if (!PREFIX.test(prefix)) throw new InvalidNameError(prefix, "prefix");
  return {
    prefix,
    nodesBuckets: (count) =>
      count === 1
        ? [`${prefix}_nodes`]
        : Array.from({ length: count }, (_, i) => `${prefix}_nodes_${i}`),
    leasesBucket: `${prefix}_leases`,
    presenceBucket: `${prefix}_presence`,
    stateBucket: `${prefix}_state`,
    journalStream: `${prefix}_journal`,
    processDown: `${prefix}.sys.down`,
    journalSubject: (type, id) =>
      `${prefix}.journal.${token(type, "room type")}.${token(id, "room id")}`,
  };
}

export function token(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new InvalidNameError(value, what);
  return value;
}

export const processKey = (role: string, id: string) => `${role}.${token(id, "process id")}`;
/** Duties live in the leases bucket; `=` keeps them apart from every room type. */
export const dutyKey = (name: string) => `=duty.${token(name, "duty name")}`;
export const leaseKey = (type: string, id: string) =>
  `${token(type, "room type")}.${token(id, "room id")}`;
export const presenceKey = (type: string, id: string, member: string) =>
  `${leaseKey(type, id)}.${token(member, "member id")}`;
