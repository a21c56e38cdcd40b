import { EventEmitter } from "node:events";
import type { KV, KvEntry, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/nats-core";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import { majority } from "./heartbeat";
import { processKey } from "./names";
import { decodeProcessRecord, type ProcessRecord, type ProcessRole } from "./records";

export const DownReason = {
  /** No heartbeat for TTL in a majority of buckets (observed by deadline, confirmed by reads). */
  Expired: "expired",
  /** The process deleted its key on a clean stop. */
  Left: "left",
  /** The same id registered again under a new epoch (a restart). */
  Replaced: "replaced",
} as const;
export type DownReason = (typeof DownReason)[keyof typeof DownReason];

export interface MembershipEvents {
  up: [process: ProcessRecord];
  down: [process: ProcessRecord, reason: DownReason];
  /** A value in the bucket could not be decoded; it is skipped. */
  invalid: [key: string, error: Error];
}

/** The last revision of a process key seen in one heartbeat bucket, and when we saw it. */
interface Sighting {
  revision: number;
  observedAt: number;
  deleted: boolean;
}

interface Tracked {
  record: ProcessRecord;
  sightings: (Sighting | undefined)[];
  /** Monotonic time a new heartbeat was last seen in any bucket. */
  lastFresh: number;
  confirming: boolean;
}

type Verdict = "stale" | "fresh" | "unknown";
const DEAD_EPOCHS_KEPT = 10_000;

/**
 * A live view of every registered process, fed by watches of the heartbeat
 * buckets. nats-server 2.9 removes a key by `max_age` without telling
 * watchers, so each process carries a local deadline (last heartbeat seen +
 * TTL + grace); a missed deadline is confirmed by reading every bucket, and the
 * process is down only when a majority of them show no heartbeat for a TTL.
 */
export class MembershipView extends EventEmitter<MembershipEvents> {
  readonly #live = new Map<string, Tracked>();
  readonly #dead = new Set<string>();
  readonly #reported = new Set<string>();
  readonly #watches: QueuedIterator<KvWatchEntry>[] = [];
  readonly #pumps: Promise<void>[] = [];
  #ticker: NodeJS.Timeout | undefined;
  #started = false;

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly log?: Logger,
  ) {
    super();
  }

  /** Starts watching; resolves once the current members are loaded. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const ready = this.buckets.nodes.map((kv, i) => this.#watch(kv, i));
    const tick = Math.max(25, Math.min(100, this.buckets.options.heartbeatTtlMs / 30));
    this.#ticker = setInterval(() => this.#checkDeadlines(), tick);
    await Promise.all(ready);
  }

  async stop(): Promise<void> {
    clearInterval(this.#ticker);
    for (const watch of this.#watches) watch.stop();
    await Promise.allSettled(this.#pumps);
    this.#started = false;
  }

  /** True iff the process `id` is live under exactly `epoch`. */
  isLive(id: string, epoch: string, role?: ProcessRole): boolean {
    for (const tracked of this.#live.values()) {
      const r = tracked.record;
      if (r.id === id && r.epoch === epoch && (!role || r.role === role)) return true;
    }
    return false;
  }

  /** True when this view saw the incarnation go down (no read needed to confirm it). */
  sawDown(epoch: string): boolean {
    return this.#dead.has(epoch);
  }

  list(role?: ProcessRole): ProcessRecord[] {
    const all = [...this.#live.values()].map((t) => t.record);
    return role ? all.filter((r) => r.role === role) : all;
  }

  /**
   * For an epoch this view may never have seen (a lease written before we
   * started): dead iff a majority of buckets hold no heartbeat of that epoch.
   */
  async confirmDead(role: ProcessRole, id: string, epoch: string): Promise<boolean> {
    if (this.isLive(id, epoch, role)) return false;
    const key = processKey(role, id);
    const reads = await Promise.allSettled(this.buckets.nodes.map((kv) => kv.get(key)));
    const without = reads.filter(
      (r) => r.status === "fulfilled" && !this.#holdsEpoch(r.value, epoch),
    );
    return without.length >= majority(reads.length);
  }

  async #watch(kv: KV, bucket: number): Promise<void> {
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const status = await kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    if (status.values === 0) markReady();
    const iter = await kv.watch({ key: ">" });
    this.#watches.push(iter);
    this.#pumps.push(this.#consume(iter, bucket, lastSeq, markReady));
    // The last message may have aged out before the watch started; never wait forever.
    const fallback = setTimeout(markReady, this.buckets.options.opTimeoutMs);
    await ready;
    clearTimeout(fallback);
  }

  async #consume(
    iter: QueuedIterator<KvWatchEntry>,
    bucket: number,
    lastSeq: number,
    ready: () => void,
  ) {
    for await (const entry of iter) {
      try {
        this.#apply(entry, bucket);
      } catch (err) {
        this.log?.error({ err }, "membership entry failed");
      }
      if (entry.revision >= lastSeq) ready();
    }
  }

  #apply(entry: KvEntry, bucket: number): void {
    if (!isProcessKey(entry.key)) return;
    const tracked = this.#live.get(entry.key);
    if (entry.operation !== "PUT") {
      if (tracked) this.#sawDelete(entry, bucket, tracked);
      return;
    }
    const record = this.#decode(entry);
    if (!record || this.#dead.has(record.epoch)) return;
    if (!tracked) return this.#up(entry, bucket, record);
    if (record.epoch === tracked.record.epoch) return this.#sawBeat(tracked, entry, bucket, record);
    // Another epoch: a restart replaces us; an older incarnation's leftover is ignored.
    if (record.started < tracked.record.started) return;
    this.#drop(entry.key, tracked, DownReason.Replaced);
    this.#up(entry, bucket, record);
  }

  #up(entry: KvEntry, bucket: number, record: ProcessRecord): void {
    const tracked: Tracked = { record, sightings: [], lastFresh: 0, confirming: false };
    this.#sawBeat(tracked, entry, bucket, record);
    this.#live.set(entry.key, tracked);
    this.emit("up", record);
  }

  #sawBeat(tracked: Tracked, entry: KvEntry, bucket: number, record: ProcessRecord): void {
    const known = tracked.sightings[bucket];
    if (known && entry.revision <= known.revision) return;
    const now = performance.now();
    tracked.sightings[bucket] = { revision: entry.revision, observedAt: now, deleted: false };
    tracked.lastFresh = now;
    tracked.record = record;
  }

  #sawDelete(entry: KvEntry, bucket: number, tracked: Tracked): void {
    tracked.sightings[bucket] = {
      revision: entry.revision,
      observedAt: performance.now(),
      deleted: true,
    };
    const deleted = tracked.sightings.filter((s) => s?.deleted).length;
    if (deleted >= majority(this.buckets.nodes.length))
      this.#drop(entry.key, tracked, DownReason.Left);
  }

  #decode(entry: KvEntry): ProcessRecord | undefined {
    try {
      return decodeProcessRecord(entry.key, entry.value);
    } catch (err) {
      const id = `${entry.key}@${entry.revision}`;
      if (!this.#reported.has(id)) {
        this.#reported.add(id);
        this.log?.warn({ key: entry.key, err }, "skipping invalid process record");
        this.emit("invalid", entry.key, err as Error);
      }
      return undefined;
    }
  }

  #drop(key: string, tracked: Tracked, reason: DownReason): void {
    if (this.#live.get(key) !== tracked) return;
    this.#live.delete(key);
    this.#dead.add(tracked.record.epoch);
    if (this.#dead.size > DEAD_EPOCHS_KEPT) this.#dead.delete(this.#dead.values().next().value!);
    this.emit("down", tracked.record, reason);
  }

  #checkDeadlines(): void {
    const { heartbeatTtlMs, expiryGraceMs } = this.buckets.options;
    const now = performance.now();
    for (const [key, tracked] of this.#live) {
      if (tracked.confirming || now < tracked.lastFresh + heartbeatTtlMs + expiryGraceMs) continue;
      tracked.confirming = true;
      this.#confirmExpiry(key, tracked)
        .catch((err) => this.log?.warn({ key, err }, "expiry confirmation failed"))
        .finally(() => (tracked.confirming = false));
    }
  }

  async #confirmExpiry(key: string, tracked: Tracked): Promise<void> {
    const verdicts = await Promise.all(
      this.buckets.nodes.map((kv, i) => this.#verdict(kv, i, key, tracked)),
    );
    if (this.#live.get(key) !== tracked || verdicts.includes("fresh")) return;
    if (verdicts.filter((v) => v === "stale").length >= majority(verdicts.length)) {
      this.#drop(key, tracked, DownReason.Expired);
    }
  }

  /** Whether bucket `i` proves that no heartbeat of this epoch landed there for a TTL. */
  async #verdict(kv: KV, i: number, key: string, tracked: Tracked): Promise<Verdict> {
    let entry: KvEntry | null;
    try {
      entry = await kv.get(key);
    } catch {
      return "unknown";
    }
    if (!this.#holdsEpoch(entry, tracked.record.epoch)) return "stale";
    const known = tracked.sightings[i];
    if (!known || entry!.revision > known.revision) {
      this.#apply(entry!, i);
      return "fresh";
    }
    const { heartbeatTtlMs, expiryGraceMs } = this.buckets.options;
    return performance.now() - known.observedAt >= heartbeatTtlMs + expiryGraceMs
      ? "stale"
      : "unknown";
  }

  #holdsEpoch(entry: KvEntry | null, epoch: string): boolean {
    if (entry?.operation !== "PUT") return false;
    try {
      return decodeProcessRecord(entry.key, entry.value).epoch === epoch;
    } catch {
      return false;
    }
  }
}

function isProcessKey(key: string): boolean {
  return key.startsWith("node.") || key.startsWith("gateway.");
}
