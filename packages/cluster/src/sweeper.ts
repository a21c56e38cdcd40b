import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import type { DownReason, MembershipView } from "./membership";
import { leaseKey } from "./names";
import { encodeFrame } from "@rookery/protocol";
import { InternalKind, parsePresenceKey, type DownNotice } from "@rookery/protocol/internal";
import { decodeLeaseRecord, decodePresenceRecord, type ProcessRecord } from "./records";
import type { Singleton } from "./singleton";
import { scanKeys } from "./key-scan";

const GC_ATTEMPTS = 4;
/** A key scan that takes longer is stopped (scanKeys) and retried. */
const SCAN_LIMIT_MS = 3000;

/**
 * The `sweeper` duty, run only by the holder of its singleton: announces every
 * process that goes down (a protocol `down` frame on `<prefix>.sys.down`) (rooms drop that gateway's members, nodes re-home
 * that node's rooms) and removes presence entries that no live room owner
 * will ever clean: members of a dead gateway in rooms that are not active.
 */
export class Sweeper {
  #started = false;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #scans = new Set<{ stop(): void }>();
  readonly #onDown = (record: ProcessRecord, reason: DownReason) =>
    this.#track(this.#handleDown(record, reason));
  readonly #onAcquired = () => this.#track(this.#collectWithRetry());

  constructor(
    private readonly nc: NatsConnection,
    private readonly buckets: ClusterBuckets,
    private readonly view: MembershipView,
    private readonly duty: Singleton,
    private readonly log?: Logger,
  ) {}

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.view.on("down", this.#onDown);
    this.duty.on("acquired", this.#onAcquired);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.view.off("down", this.#onDown);
    this.duty.off("acquired", this.#onAcquired);
    for (const scan of this.#scans) scan.stop();
    await Promise.allSettled(this.#pending);
  }

  /** Deletes presence entries of dead gateways in rooms with no live owner. Returns the count. */
  async collectOrphans(): Promise<number> {
    if (!this.duty.isHolder) return 0;
    const { presence } = this.buckets;
    let removed = 0;
    const scan = await scanKeys(presence, ">", SCAN_LIMIT_MS);
    this.#scans.add(scan.keys);
    try {
      for await (const key of scan.keys) {
        if (await this.#isOrphan(key)) removed++;
      }
    } finally {
      scan.done();
      this.#scans.delete(scan.keys);
    }
    if (scan.timedOut()) throw new Error(`presence key scan took over ${SCAN_LIMIT_MS} ms`);
    if (removed > 0) this.log?.info({ removed }, "removed orphaned presence entries");
    return removed;
  }

  async #handleDown(record: ProcessRecord, reason: DownReason): Promise<void> {
    if (!this.duty.isHolder) return;
    const notice: DownNotice = {
      k: InternalKind.Down,
      role: record.role,
      id: record.id,
      epoch: record.epoch,
      reason,
    };
    this.nc.publish(this.buckets.names.processDown, encodeFrame(notice));
    this.log?.info({ process: record.id, role: record.role, reason }, "process down announced");
    if (record.role === "gateway") await this.#collectWithRetry();
  }

  /** A scan that fails (a timeout under load) is tried again: nobody else will clean up. */
  async #collectWithRetry(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.collectOrphans();
        return;
      } catch (err) {
        if (attempt >= GC_ATTEMPTS || !this.#started) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  async #isOrphan(key: string): Promise<boolean> {
    const { presence } = this.buckets;
    const entry = await presence.get(key);
    if (entry?.operation !== "PUT") return false;
    let gateway: string, gatewayEpoch: string;
    try {
      ({ gateway, gatewayEpoch } = decodePresenceRecord(key, entry.value));
    } catch {
      return this.#delete(key, entry.revision);
    }
    if (this.view.isLive(gateway, gatewayEpoch, "gateway")) return false;
    const room = parsePresenceKey(key);
    if (!room || (await this.#roomIsOwned(room.type, room.id))) return false;
    return this.#delete(key, entry.revision);
  }

  /** A room with a live owner cleans its own presence (single writer): leave it alone. */
  async #roomIsOwned(type: string, id: string): Promise<boolean> {
    const entry = await this.buckets.leases.get(leaseKey(type, id));
    if (entry?.operation !== "PUT") return false;
    try {
      const lease = decodeLeaseRecord(entry.key, entry.value);
      return lease.owner !== null && this.view.isLive(lease.owner, lease.ownerEpoch ?? "", "node");
    } catch {
      return false;
    }
  }

  async #delete(key: string, revision: number): Promise<boolean> {
    try {
      await this.buckets.presence.delete(key, { previousSeq: revision });
      return true;
    } catch {
      return false;
    }
  }

  #track(work: Promise<unknown>): void {
    const tracked = work
      .catch((err) => this.log?.warn({ err }, "sweeper work failed"))
      .finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }
}
