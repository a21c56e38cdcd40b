import { randomBytes } from "node:crypto";
import { pino, type Logger } from "pino";
import type {
  AcquireResult,
  Lease,
  LeaseRecord,
  ProcessRecord,
  ProcessRole,
} from "@rookery/cluster";
import { leaseKey } from "@rookery/cluster/internal";
import { parseLeaseKey } from "@rookery/protocol/internal";
import type { HostCluster } from "./host-cluster";
import { MemoryRoomStorage } from "./memory-storage";
import { MemoryTransport } from "./memory-transport";
import type { RoomRef } from "./storage";

/** Lost CAS races before an acquire answers with whoever holds the lease, as on NATS. */
const MAX_ATTEMPTS = 5;

/** Options of one in-memory process (see {@link MemoryCluster.join}). */
export interface MemoryProcessOptions {
  /** @default "node" */
  role?: ProcessRole;
  /** The load its heartbeat publishes (placement prefers the lightest node). @default () => 0 */
  load?: () => number;
  /** @default a silent logger */
  log?: Logger;
}

interface StoredLease {
  record: LeaseRecord;
  revision: number;
}

/**
 * A cluster in process memory, for unit tests of the actor host: the
 * leases bucket (a map with compare-and-set by revision, the lease rules of
 * {@link HostCluster}), the processes and their liveness, one shared
 * `MemoryRoomStorage` and `MemoryTransport`. The test decides what the
 * heartbeats and the membership view would have: {@link crash} fail-stops
 * a process and tells the others it is down; {@link partition} tells the
 * others only (the process keeps serving until a fenced write stops it).
 */
export class MemoryCluster {
  readonly storage = new MemoryRoomStorage();
  readonly transport = new MemoryTransport();
  readonly #leases = new Map<string, StoredLease>();
  readonly #processes = new Map<string, MemoryMember>();
  readonly #dead = new Set<string>();
  #revision = 0;

  constructor(readonly prefix = "mem") {}

  /** A process joins under a fresh epoch: live, its heartbeat holding. */
  join(id: string, options: MemoryProcessOptions = {}): MemoryMember {
    const member = new MemoryMember(this, id, options);
    this.#processes.set(id, member);
    return member;
  }

  /** The room's lease as stored, if any (tests). */
  lease(type: string, id: string): LeaseRecord | undefined {
    return this.#leases.get(leaseKey(type, id))?.record;
  }

  /** The process loses its heartbeat: it fail-stops, and every other process sees it down. */
  crash(id: string): void {
    this.#get(id).failStop();
    this.partition(id);
  }

  /**
   * Every other process sees `id` down, but it does not know (a partition,
   * a long pause): it keeps serving until a fenced write tells it.
   */
  partition(id: string): void {
    const member = this.#get(id);
    this.#dead.add(member.epoch);
    const record = member.record();
    for (const other of this.#processes.values())
      if (other !== member && !this.#dead.has(other.epoch)) other.fireDown(record);
  }

  isLive(id: string, epoch: string, role?: ProcessRole): boolean {
    const member = this.#processes.get(id);
    if (!member || member.epoch !== epoch || this.#dead.has(epoch)) return false;
    return role === undefined || member.role === role;
  }

  list(role: ProcessRole): ProcessRecord[] {
    return [...this.#processes.values()]
      .filter((m) => m.role === role && !this.#dead.has(m.epoch))
      .map((m) => m.record());
  }

  /** @internal A read of the leases bucket. */
  read(key: string): StoredLease | undefined {
    return this.#leases.get(key);
  }

  /** @internal A write at the revision read (0: the key must not exist); false if it moved on. */
  compareAndSet(key: string, record: LeaseRecord, revision: number): number | undefined {
    if ((this.#leases.get(key)?.revision ?? 0) !== revision) return undefined;
    const next = ++this.#revision;
    this.#leases.set(key, { record, revision: next });
    return next;
  }

  /** @internal Every lease, for a re-homing scan. */
  entries(): IterableIterator<[string, StoredLease]> {
    return this.#leases.entries();
  }

  #get(id: string): MemoryMember {
    const member = this.#processes.get(id);
    if (!member) throw new Error(`no process ${id} joined this memory cluster`);
    return member;
  }
}

/** One process of a {@link MemoryCluster}: the host's cluster port in memory. */
export class MemoryMember implements HostCluster {
  readonly epoch = randomBytes(8).toString("hex");
  readonly role: ProcessRole;
  readonly log: Logger;
  readonly #started = Date.now();
  readonly #load: () => number;
  readonly #held = new Map<string, Lease>();
  readonly #failStop = new Set<() => void>();
  readonly #down = new Set<(process: ProcessRecord) => void>();
  #alive = true;

  constructor(
    private readonly cluster: MemoryCluster,
    readonly id: string,
    options: MemoryProcessOptions,
  ) {
    this.role = options.role ?? "node";
    this.#load = options.load ?? (() => 0);
    this.log = options.log ?? pino({ level: "silent" });
  }

  get prefix(): string {
    return this.cluster.prefix;
  }
  isAlive(): boolean {
    return this.#alive;
  }
  isLive(id: string, epoch: string, role?: ProcessRole): boolean {
    return this.cluster.isLive(id, epoch, role);
  }
  list(role: ProcessRole): ProcessRecord[] {
    return this.cluster.list(role);
  }
  record(): ProcessRecord {
    const { id, epoch, role } = this;
    return { id, epoch, role, region: "", url: "", load: this.#load(), started: this.#started };
  }

  async acquire(type: string, id: string): Promise<AcquireResult> {
    const key = leaseKey(type, id);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const seen = this.cluster.read(key);
      // A read and the write after it are two round trips on NATS: let others race in between.
      await Promise.resolve();
      const result = this.#tryAcquire(type, id, key, seen);
      if (result) return result;
    }
    const record = this.cluster.read(key)?.record;
    return {
      acquired: false,
      owner: record?.owner ?? "unknown",
      ownerEpoch: record?.ownerEpoch ?? "",
      roomEpoch: record?.roomEpoch ?? 0,
    };
  }

  #tryAcquire(type: string, id: string, key: string, seen: StoredLease | undefined) {
    if (!seen) return this.#write(type, id, key, 0, 1, false);
    const current = seen.record;
    const mine = current.owner === this.id && current.ownerEpoch === this.epoch;
    const held = this.#held.get(key);
    if (mine && held) return { acquired: true as const, lease: held };
    const next = current.roomEpoch + 1;
    if (current.owner === null || mine)
      return this.#write(type, id, key, seen.revision, next, false);
    if (this.cluster.isLive(current.owner, current.ownerEpoch ?? "")) {
      const { owner, roomEpoch } = current;
      return { acquired: false as const, owner, ownerEpoch: current.ownerEpoch ?? "", roomEpoch };
    }
    return this.#write(type, id, key, seen.revision, next, true);
  }

  #write(type: string, id: string, key: string, at: number, roomEpoch: number, takenOver: boolean) {
    const ownerEpoch = this.epoch;
    if (!this.#alive)
      return { acquired: false as const, owner: "self-failstopped", ownerEpoch, roomEpoch };
    const record: LeaseRecord = { owner: this.id, ownerEpoch, roomEpoch, at: Date.now() };
    const revision = this.cluster.compareAndSet(key, record, at);
    if (revision === undefined) return undefined;
    const lease: Lease = { type, id, key, roomEpoch, revision, ownerEpoch, takenOver };
    this.#held.set(key, lease);
    return { acquired: true as const, lease };
  }

  async release(lease: Lease): Promise<void> {
    if (this.#held.get(lease.key) !== lease) return;
    this.#held.delete(lease.key);
    const { roomEpoch } = lease;
    const free: LeaseRecord = { owner: null, ownerEpoch: null, roomEpoch, at: Date.now() };
    // A failed condition: someone took it over meanwhile, it is theirs.
    this.cluster.compareAndSet(lease.key, free, lease.revision);
    await Promise.resolve();
  }

  markLost(lease: Lease): void {
    if (this.#held.get(lease.key) === lease) this.#held.delete(lease.key);
  }

  async leasesOf(owner: ProcessRecord, hosted: (type: string) => boolean): Promise<RoomRef[]> {
    const rooms: RoomRef[] = [];
    for (const [key, { record }] of this.cluster.entries()) {
      const room = parseLeaseKey(key);
      if (
        room &&
        hosted(room.type) &&
        record.owner === owner.id &&
        record.ownerEpoch === owner.epoch
      )
        rooms.push(room);
    }
    await Promise.resolve();
    return rooms;
  }

  onFailStop(listener: () => void): () => void {
    this.#failStop.add(listener);
    return () => void this.#failStop.delete(listener);
  }
  onDown(listener: (process: ProcessRecord) => void): () => void {
    this.#down.add(listener);
    return () => void this.#down.delete(listener);
  }
  async openStorage(): Promise<MemoryRoomStorage> {
    return this.cluster.storage;
  }
  openTransport(): MemoryTransport {
    return this.cluster.transport;
  }

  /** @internal Its heartbeat failed: nothing is written from now on, its leases are gone. */
  failStop(): void {
    this.#alive = false;
    this.#held.clear();
    for (const listener of [...this.#failStop]) listener();
  }

  /** @internal Another process went down, as the membership view reports it. */
  fireDown(process: ProcessRecord): void {
    for (const listener of [...this.#down]) listener(process);
  }
}
