import { EventEmitter } from "node:events";
import type { KvEntry, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/nats-core";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import { decodeProcessRecord, type ProcessRecord, type ProcessRole } from "./records";

export const DownReason = {
  /** The key aged out (observed by a missed deadline and confirmed by a read). */
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

interface Tracked {
  record: ProcessRecord;
  revision: number;
  /** Monotonic time after which the key should have been refreshed. */
  deadline: number;
  confirming: boolean;
}

/**
 * A live view of every registered process, fed by a watch of `rk_nodes`.
 * nats-server 2.9 removes a key by `max_age` without telling watchers, so
 * each key carries a local deadline (last put seen + TTL + grace); a missed
 * deadline is confirmed with a `get` before the process is declared down.
 */
export class MembershipView extends EventEmitter<MembershipEvents> {
  readonly #live = new Map<string, Tracked>();
  readonly #reported = new Set<string>();
  #watch: QueuedIterator<KvWatchEntry> | undefined;
  #pump: Promise<void> | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #ready!: Promise<void>;
  #markReady: () => void = () => {};

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly log?: Logger,
  ) {
    super();
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Starts watching; resolves once the current members are loaded. */
  async start(): Promise<void> {
    if (this.#watch) return this.#ready;
    const { nodes } = this.buckets;
    const status = await nodes.status();
    const lastSeq = status.streamInfo.state.last_seq;
    if (status.values === 0) this.#markReady();
    this.#watch = await nodes.watch({ key: ">" });
    this.#pump = this.#consume(this.#watch, lastSeq);
    const tick = Math.max(50, Math.min(250, this.buckets.options.heartbeatTtlMs / 10));
    this.#ticker = setInterval(() => this.#checkDeadlines(), tick);
    // The last message may have aged out before the watch started; never wait forever.
    const fallback = setTimeout(() => this.#markReady(), this.buckets.options.opTimeoutMs);
    await this.#ready;
    clearTimeout(fallback);
  }

  async stop(): Promise<void> {
    clearInterval(this.#ticker);
    this.#watch?.stop();
    await this.#pump;
    this.#watch = undefined;
  }

  /** True iff the process `id` is live under exactly `epoch`. */
  isLive(id: string, epoch: string, role?: ProcessRole): boolean {
    for (const tracked of this.#live.values()) {
      const r = tracked.record;
      if (r.id === id && r.epoch === epoch && (!role || r.role === role)) return true;
    }
    return false;
  }

  list(role?: ProcessRole): ProcessRecord[] {
    const all = [...this.#live.values()].map((t) => t.record);
    return role ? all.filter((r) => r.role === role) : all;
  }

  async #consume(iter: QueuedIterator<KvWatchEntry>, lastSeq: number): Promise<void> {
    for await (const entry of iter) {
      try {
        this.#apply(entry);
      } catch (err) {
        this.log?.error({ err }, "membership entry failed");
      }
      if (entry.revision >= lastSeq) this.#markReady();
    }
  }

  #apply(entry: KvWatchEntry): void {
    if (!isProcessKey(entry.key)) return;
    const previous = this.#live.get(entry.key);
    if (entry.operation !== "PUT") {
      if (previous) this.#drop(entry.key, previous, DownReason.Left);
      return;
    }
    if (previous && entry.revision <= previous.revision) return;
    const record = this.#decode(entry);
    if (!record) return;
    this.#accept(entry.key, record, entry.revision, previous);
  }

  #accept(key: string, record: ProcessRecord, revision: number, previous?: Tracked): void {
    const { heartbeatTtlMs, expiryGraceMs } = this.buckets.options;
    const deadline = performance.now() + heartbeatTtlMs + expiryGraceMs;
    this.#live.set(key, { record, revision, deadline, confirming: false });
    if (previous?.record.epoch === record.epoch) return;
    if (previous) this.emit("down", previous.record, DownReason.Replaced);
    this.emit("up", record);
  }

  #decode(entry: KvEntry): ProcessRecord | undefined {
    try {
      return decodeProcessRecord(entry.key, entry.value);
    } catch (err) {
      const id = `${entry.key}@${entry.revision}`;
      if (!this.#reported.has(id)) {
        this.#reported.add(id);
        this.log?.warn({ key: entry.key, err: String(err) }, "skipping invalid process record");
        this.emit("invalid", entry.key, err as Error);
      }
      return undefined;
    }
  }

  #drop(key: string, tracked: Tracked, reason: DownReason): void {
    this.#live.delete(key);
    this.emit("down", tracked.record, reason);
  }

  #checkDeadlines(): void {
    const now = performance.now();
    for (const [key, tracked] of this.#live) {
      if (now < tracked.deadline || tracked.confirming) continue;
      tracked.confirming = true;
      this.#confirmExpiry(key, tracked).catch((err) => {
        tracked.confirming = false;
        this.log?.warn({ key, err: String(err) }, "expiry confirmation failed");
      });
    }
  }

  async #confirmExpiry(key: string, tracked: Tracked): Promise<void> {
    const entry = await this.buckets.nodes.get(key);
    if (this.#live.get(key) !== tracked) return;
    tracked.confirming = false;
    if (!entry || entry.operation !== "PUT") {
      this.#drop(key, tracked, DownReason.Expired);
    } else if (entry.revision > tracked.revision) {
      const record = this.#decode(entry);
      if (record) this.#accept(key, record, entry.revision, tracked);
    } else {
      // Still there at the same revision: the server has not expired it yet.
      tracked.deadline = performance.now() + this.buckets.options.expiryGraceMs;
    }
  }
}

function isProcessKey(key: string): boolean {
  return key.startsWith("node.") || key.startsWith("gateway.");
}
