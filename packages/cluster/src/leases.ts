import { EventEmitter } from "node:events";
import type { KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import { isWrongLastSequence } from "./errors";
import type { Heartbeat } from "./heartbeat";
import type { MembershipView } from "./membership";
import { dutyKey, leaseKey } from "./names";
import { decodeLeaseRecord, encodeRecord, ProcessRole, type LeaseRecord } from "./records";

/** A room lease this process holds. */
export interface Lease {
  type: string;
  id: string;
  key: string;
  /** Strictly increasing per room: the fencing epoch of this activation. */
  roomEpoch: number;
  /** Revision of the lease key written when acquiring. */
  revision: number;
  /** Heartbeat epoch the lease was taken under; dies with it. */
  ownerEpoch: string;
  /** True when the room was taken over from a dead owner (re-homing). */
  takenOver: boolean;
}

export type AcquireResult =
  | { acquired: true; lease: Lease }
  | { acquired: false; owner: string; ownerEpoch: string; roomEpoch: number };

export interface LeaseEvents {
  /** The lease is no longer ours (fail-stop, fenced write failure, or release). */
  lost: [lease: Lease, reason: string];
}

const MAX_ATTEMPTS = 5;
/** How long a release is retried through transient KV failures. */
const RELEASE_RETRY_MS = 15_000;
/** Lease type of cluster duties; `=` is no room-type character, so they never collide. */
export const DUTY_TYPE = "=duty";

/**
 * Room placement leases in `rk_leases`. A lease is never renewed per room: it
 * is valid while the owner's heartbeat epoch lives, so liveness costs
 * O(processes). Every ownership change is a CAS write at the revision read;
 * a read alone never decides (KV reads are not read-your-writes).
 */
export class LeaseManager extends EventEmitter<LeaseEvents> {
  readonly #held = new Map<string, Lease>();

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly heartbeat: Heartbeat,
    private readonly view: MembershipView,
    private readonly log?: Logger,
  ) {
    super();
    heartbeat.on("failstop", (reason) => this.#loseAll(`fail-stop: ${reason}`));
  }

  held(): Lease[] {
    return [...this.#held.values()];
  }

  get(type: string, id: string): Lease | undefined {
    return this.#held.get(leaseKey(type, id));
  }

  /**
   * The room's owner as the bucket says, when that owner is live: a hint
   * for routing and discovery only (a read decides no ownership).
   */
  async owner(type: string, id: string): Promise<string | undefined> {
    const key = leaseKey(type, id);
    const entry = await this.buckets.leases.get(key).catch(() => null);
    if (!entry || entry.operation !== "PUT") return undefined;
    try {
      const record = decodeLeaseRecord(key, entry.value);
      const { owner, ownerEpoch } = record;
      return owner && ownerEpoch && this.view.isLive(owner, ownerEpoch, "node") ? owner : undefined;
    } catch {
      return undefined;
    }
  }

  /** Acquires the room: on a free or missing lease, or by taking over from a dead owner. */
  acquire(type: string, id: string): Promise<AcquireResult> {
    return this.#acquireKey(leaseKey(type, id), type, id);
  }

  /** Acquires a cluster duty (see Singleton): the same lease rules under a reserved key. */
  acquireDuty(name: string): Promise<AcquireResult> {
    return this.#acquireKey(dutyKey(name), DUTY_TYPE, name);
  }

  async #acquireKey(key: string, type: string, id: string): Promise<AcquireResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry = await this.buckets.leases.get(key);
      const result = await this.#tryAcquire(type, id, key, entry);
      if (result) return result;
    }
    const entry = await this.buckets.leases.get(key);
    const record = entry?.operation === "PUT" ? this.#decode(key, entry) : undefined;
    return {
      acquired: false,
      owner: record?.owner ?? "unknown",
      ownerEpoch: record?.ownerEpoch ?? "",
      roomEpoch: record?.roomEpoch ?? 0,
    };
  }

  /** Releases by a CAS update that marks the lease free (never a delete: nats-server #5162). */
  async release(lease: Lease): Promise<void> {
    if (this.#held.get(lease.key) !== lease) return;
    this.#held.delete(lease.key);
    const free: LeaseRecord = {
      owner: null,
      ownerEpoch: null,
      roomEpoch: lease.roomEpoch,
      at: Date.now(),
    };
    await this.#writeFree(lease, encodeRecord(free));
    this.emit("lost", lease, "released");
  }

  /**
   * A release that fails leaves the room owned by a live process that no
   * longer serves it: nobody else may take it until that process dies. So a
   * transient failure (a KV stream leader election) is retried while our
   * heartbeat lives, for up to {@link RELEASE_RETRY_MS}.
   */
  async #writeFree(lease: Lease, value: Uint8Array): Promise<void> {
    const deadline = performance.now() + RELEASE_RETRY_MS;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        await this.buckets.leases.update(lease.key, value, lease.revision);
        return;
      } catch (err) {
        // Someone took it over meanwhile: it is theirs, nothing to release.
        if (isWrongLastSequence(err)) return;
        if (!this.heartbeat.isAlive() || performance.now() + delay > deadline) throw err;
        this.log?.warn({ err, room: lease.key }, "lease release failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  /** Called when a fenced write for this room failed: the room is someone else's now. */
  markLost(lease: Lease, reason: string): void {
    if (this.#held.get(lease.key) !== lease) return;
    this.#held.delete(lease.key);
    this.emit("lost", lease, reason);
  }

  /** Returns a result when decided, undefined to retry after a lost race. */
  async #tryAcquire(type: string, id: string, key: string, entry: KvEntry | null) {
    if (!entry) return this.#write(type, id, key, null, 1, false);
    // A tombstone or an undecodable value carries no epoch; the key's revision
    // bounds every epoch ever written to it, so revision + 1 keeps epochs rising.
    const current = entry.operation === "PUT" ? this.#decode(key, entry) : undefined;
    if (!current) return this.#write(type, id, key, entry, entry.revision + 1, false);
    const mine = current.owner === this.heartbeat.id && current.ownerEpoch === this.heartbeat.epoch;
    const held = this.#held.get(key);
    if (mine && held) return { acquired: true as const, lease: held };
    const nextEpoch = current.roomEpoch + 1;
    if (current.owner === null || mine) return this.#write(type, id, key, entry, nextEpoch, false);
    if (await this.#ownerIsLive(current)) {
      return {
        acquired: false as const,
        owner: current.owner,
        ownerEpoch: current.ownerEpoch ?? "",
        roomEpoch: current.roomEpoch,
      };
    }
    return this.#write(type, id, key, entry, nextEpoch, true);
  }

  async #write(
    type: string,
    id: string,
    key: string,
    entry: KvEntry | null,
    roomEpoch: number,
    takenOver: boolean,
  ) {
    const ownerEpoch = this.heartbeat.epoch;
    if (!this.heartbeat.isAlive())
      return { acquired: false as const, owner: "self-failstopped", ownerEpoch, roomEpoch };
    const record: LeaseRecord = { owner: this.heartbeat.id, ownerEpoch, roomEpoch, at: Date.now() };
    try {
      // previousSeq 0 = "must not exist"; otherwise CAS on the revision we read.
      const revision = await this.buckets.leases.put(key, encodeRecord(record), {
        previousSeq: entry?.revision ?? 0,
      });
      const lease: Lease = { type, id, key, roomEpoch, revision, ownerEpoch, takenOver };
      this.#held.set(key, lease);
      return { acquired: true as const, lease };
    } catch (err) {
      if (isWrongLastSequence(err)) return undefined;
      throw err;
    }
  }

  /**
   * The view says who is live; a dead-looking owner is confirmed by reading the
   * heartbeat buckets, so a view that started late cannot steal a live owner's room.
   */
  async #ownerIsLive(lease: LeaseRecord): Promise<boolean> {
    const { owner, ownerEpoch } = lease;
    if (!owner || !ownerEpoch) return false;
    if (this.view.isLive(owner, ownerEpoch)) return true;
    if (this.view.sawDown(ownerEpoch)) return false;
    for (const role of Object.values(ProcessRole)) {
      if (!(await this.view.confirmDead(role, owner, ownerEpoch))) return true;
    }
    return false;
  }

  /** An undecodable lease is treated as free (overwritten at its revision), never as a crash. */
  #decode(key: string, entry: KvEntry): LeaseRecord | undefined {
    try {
      return decodeLeaseRecord(key, entry.value);
    } catch (err) {
      this.log?.warn({ key, err }, "overwriting invalid lease record");
      return undefined;
    }
  }

  #loseAll(reason: string): void {
    const all = [...this.#held.values()];
    this.#held.clear();
    for (const lease of all) this.emit("lost", lease, reason);
  }
}
