import { names } from "@rookery/protocol";
import { leaseKey as roomKey, nodeKey, presenceKey as memberKey } from "@rookery/protocol/internal";
import { InvalidNameError } from "./errors";
import type { ProcessRole } from "./records";

/**
 * The buckets, stream and subjects the cluster layer uses, all taken from
 * `@rookery/protocol`'s `names(prefix)` so every process agrees on them.
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
  journalSubjects: string;
}

export function clusterNames(prefix: string): ClusterNames {
  const all = wrap(() => names(prefix), prefix, "prefix");
  return {
    prefix,
    nodesBuckets: (count) =>
      count === 1
        ? [all.buckets.nodes]
        : Array.from({ length: count }, (_, i) => `${all.buckets.nodes}_${i}`),
    leasesBucket: all.buckets.leases,
    presenceBucket: all.buckets.presence,
    stateBucket: all.buckets.state,
    journalStream: all.streams.journal,
    processDown: all.subjects.processDown,
    journalSubject: (type, id) =>
      wrap(() => all.subjects.journal(type, id), `${type}/${id}`, "room"),
    journalSubjects: all.subjects.allJournals,
  };
}

const DUTY = /^[A-Za-z0-9_-]{1,64}$/;

export const processKey = (role: ProcessRole, id: string) =>
  wrap(() => nodeKey(role, id), id, "process id");
export const leaseKey = (type: string, id: string) =>
  wrap(() => roomKey(type, id), `${type}/${id}`, "room");
export const presenceKey = (type: string, id: string, member: string) =>
  wrap(() => memberKey(type, id, member), `${type}/${id}/${member}`, "presence key");

/** Duties live in the leases bucket; `=` is no room-type character, so they never collide. */
export function dutyKey(name: string): string {
  if (!DUTY.test(name)) throw new InvalidNameError(name, "duty name");
  return `=duty.${name}`;
}

/** Turns the protocol's field error into the cluster's own error, keeping the cause. */
function wrap<T>(build: () => T, value: string, what: string): T {
  try {
    return build();
  } catch (cause) {
    throw new InvalidNameError(value, what, { cause });
  }
}
