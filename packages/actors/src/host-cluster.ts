import type { Logger } from "pino";
import type { AcquireResult, Lease, ProcessRecord, ProcessRole } from "@rookery/cluster";
import type { ResolvedRuntimeOptions } from "./options";
import type { RoomRef, RoomStorage } from "./storage";
import type { Transport } from "./transport";

/**
 * The cluster port of the actor host: what `ActorHost` needs of its
 * process's membership, and nothing else. Implemented over a
 * `ClusterMember` (`NatsHostCluster`, src/nats/) and in memory
 * (`MemoryCluster`, memory-cluster.ts, for unit tests of the host). Both
 * keep the lease rules the single-owner guarantee rests on
 * (docs/reliability.md):
 *
 * - a room's lease is taken by compare-and-set at the revision read, and
 *   each taking bumps the room epoch;
 * - a lease naming a live owner is refused (`acquired: false`, with that
 *   owner); one naming a dead owner is taken over (`takenOver: true`);
 * - a release is a compare-and-set too: a lease someone else took since is
 *   theirs, and the release does nothing.
 */
export interface HostCluster {
  /** This process's id. */
  readonly id: string;
  /** Namespace prefix of every subject and bucket (`names(prefix)`). */
  readonly prefix: string;
  readonly log: Logger;
  /** Whether this process's heartbeat still holds: nothing is written once it is false. */
  isAlive(): boolean;
  /** Whether a process incarnation is live (of that role, if given). */
  isLive(id: string, epoch: string, role?: ProcessRole): boolean;
  /** Live processes of a role, with the load each last published. */
  list(role: ProcessRole): ProcessRecord[];
  /** Takes the room's lease (see above). */
  acquire(type: string, id: string): Promise<AcquireResult>;
  /** Frees a lease this process holds, by compare-and-set at its revision. */
  release(lease: Lease): Promise<void>;
  /** Forgets a lease whose fenced write failed: it is someone else's now. */
  markLost(lease: Lease, reason: string): void;
  /** Rooms of the given types whose lease names the process incarnation `owner`. */
  leasesOf(owner: ProcessRecord, hosted: (type: string) => boolean): Promise<RoomRef[]>;
  /** Listens for this process's fail-stop: every actor must stop before its heartbeat can expire. */
  onFailStop(listener: () => void): () => void;
  /** Listens for other processes going down; returns the function that stops listening. */
  onDown(listener: (process: ProcessRecord) => void): () => void;
  /** The room storage every actor of the host shares. */
  openStorage(journalPurge: ResolvedRuntimeOptions["journalPurge"]): Promise<RoomStorage>;
  /** The messaging every actor of the host shares. */
  openTransport(): Transport;
}
