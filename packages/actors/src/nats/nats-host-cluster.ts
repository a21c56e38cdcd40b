import type { ClusterMember, Lease, ProcessRecord, ProcessRole } from "@rookery/cluster";
import { decodeLeaseRecord } from "@rookery/cluster/internal";
import { parseLeaseKey } from "@rookery/protocol/internal";
import type { HostCluster } from "../host-cluster";
import type { RoomRef } from "../storage";
import { NatsRoomStorage, type JournalPurge } from "./nats-room-storage";
import { NatsTransport } from "./nats-transport";

/** Lease reads in flight at once while scanning for a dead node's rooms. */
const REHOME_READS = 64;

/** The host's cluster port over a started `ClusterMember` (heartbeat, view, leases on NATS KV). */
export class NatsHostCluster implements HostCluster {
  constructor(readonly member: ClusterMember) {}

  get id(): string {
    return this.member.heartbeat.id;
  }
  get prefix(): string {
    return this.member.buckets.names.prefix;
  }
  get log() {
    return this.member.log;
  }
  isAlive(): boolean {
    return this.member.heartbeat.isAlive();
  }
  isLive(id: string, epoch: string, role?: ProcessRole): boolean {
    return this.member.view.isLive(id, epoch, role);
  }
  list(role: ProcessRole): ProcessRecord[] {
    return this.member.view.list(role);
  }
  acquire(type: string, id: string) {
    return this.member.leases.acquire(type, id);
  }
  release(lease: Lease): Promise<void> {
    return this.member.leases.release(lease);
  }
  markLost(lease: Lease, reason: string): void {
    this.member.leases.markLost(lease, reason);
  }

  /** Scans the leases bucket's keys, then reads the candidates' leases in parallel batches. */
  async leasesOf(owner: ProcessRecord, hosted: (type: string) => boolean): Promise<RoomRef[]> {
    const leases = this.member.buckets.leases;
    const candidates: string[] = [];
    for await (const key of await leases.keys()) {
      const room = parseLeaseKey(key);
      if (room && hosted(room.type)) candidates.push(key);
    }
    const owned: RoomRef[] = [];
    for (let i = 0; i < candidates.length; i += REHOME_READS) {
      const batch = candidates.slice(i, i + REHOME_READS);
      const entries = await Promise.all(batch.map((key) => leases.get(key)));
      for (const entry of entries) {
        if (entry?.operation !== "PUT") continue;
        const lease = safeLease(entry.key, entry.value);
        const room = parseLeaseKey(entry.key);
        if (room && lease?.owner === owner.id && lease.ownerEpoch === owner.epoch) owned.push(room);
      }
    }
    return owned;
  }

  onFailStop(listener: () => void): () => void {
    const heartbeat = this.member.heartbeat;
    heartbeat.on("failstop", listener);
    return () => void heartbeat.off("failstop", listener);
  }
  onDown(listener: (process: ProcessRecord) => void): () => void {
    const view = this.member.view;
    view.on("down", listener);
    return () => void view.off("down", listener);
  }
  openStorage(journalPurge: JournalPurge): Promise<NatsRoomStorage> {
    return NatsRoomStorage.of(this.member, journalPurge);
  }
  openTransport(): NatsTransport {
    return new NatsTransport(this.member.nc);
  }
}

function safeLease(key: string, value: Uint8Array) {
  try {
    return decodeLeaseRecord(key, value);
  } catch {
    return undefined;
  }
}
