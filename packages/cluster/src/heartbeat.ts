import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import { isWrongLastSequence } from "./errors";
import { processKey } from "./names";
import { decodeProcessRecord, encodeRecord, type ProcessRecord, type ProcessRole } from "./records";

export interface ProcessIdentity {
  id: string;
  role: ProcessRole;
  /** @default "local" */
  region?: string;
  /** Public URL clients or peers use to reach this process. @default "" */
  url?: string;
}

export const FailStopReason = {
  /** No heartbeat reached a majority for TTL - margin: our key may expire any moment. */
  HeartbeatMissed: "heartbeat-missed",
  /** Another incarnation wrote our key: we are no longer this id. */
  Superseded: "superseded",
} as const;
export type FailStopReason = (typeof FailStopReason)[keyof typeof FailStopReason];

export interface HeartbeatEvents {
  /** Everything owned under `epoch` must stop now, before the key expires. */
  failstop: [reason: FailStopReason, epoch: string];
  /** Registered again under a fresh epoch after a fail-stop. */
  rejoined: [epoch: string];
  beat: [record: ProcessRecord];
}

export const newEpoch = () => randomBytes(8).toString("hex");
export const majority = (count: number) => Math.floor(count / 2) + 1;
const RETRY_MS = 200;

/** Outcome of one write to one heartbeat bucket. */
type BeatOutcome = "ok" | "failed" | "superseded";

/**
 * Keeps this process's heartbeat key alive every TTL/3 under a per-start
 * epoch, in every heartbeat bucket, and counts a round as successful when a
 * majority of them took it. It fail-stops before the key can expire: the
 * local deadline runs from when the last successful round was *sent*, so a
 * paused or partitioned process gives up before anyone may take over.
 */
export class Heartbeat extends EventEmitter<HeartbeatEvents> {
  readonly key: string;
  #epoch = newEpoch();
  #revisions: number[];
  /** Buckets whose last heartbeat write failed (logged once per failure streak). */
  readonly #failing = new Set<number>();
  #lastSentAt = 0;
  #failed = false;
  #running = false;
  #beatTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  readonly #started = Date.now();

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly identity: ProcessIdentity,
    private readonly load: () => number = () => 0,
    private readonly log?: Logger,
  ) {
    super();
    this.key = processKey(identity.role, identity.id);
    this.#revisions = buckets.nodes.map(() => 0);
  }

  get epoch(): string {
    return this.#epoch;
  }

  get id(): string {
    return this.identity.id;
  }

  /** Registers (overwriting any earlier incarnation of this id) and starts beating. */
  async start(): Promise<void> {
    if (this.#running) return;
    if (!(await this.#register())) {
      throw new Error(
        `heartbeat ${this.key} reached no majority of ${this.buckets.nodes.length} bucket(s)`,
      );
    }
    this.#running = true;
    this.#schedule();
  }

  /** Stops beating and deletes our key so watchers see us leave at once. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#beatTimer);
    clearTimeout(this.#deadlineTimer);
    await this.#beating;
    if (this.#failed) return;
    await Promise.all(
      this.buckets.nodes.map((kv, i) =>
        kv.delete(this.key, { previousSeq: this.#revisions[i] }).catch((err: unknown) => {
          this.log?.warn({ err }, "could not delete heartbeat key on stop");
        }),
      ),
    );
  }

  /** False once the fail-stop deadline passed: callers must not write owned state. */
  isAlive(): boolean {
    return this.#running && !this.#failed && performance.now() < this.deadline();
  }

  /** Monotonic time (performance.now()) after which our key may have expired. */
  deadline(): number {
    const { heartbeatTtlMs, failStopMarginMs } = this.buckets.options;
    return this.#lastSentAt + heartbeatTtlMs - failStopMarginMs;
  }

  record(): ProcessRecord {
    return {
      id: this.identity.id,
      epoch: this.#epoch,
      role: this.identity.role,
      region: this.identity.region ?? "local",
      url: this.identity.url ?? "",
      load: this.load(),
      started: this.#started,
    };
  }

  /** The first write of an incarnation is a plain put: it replaces whatever a crashed one left. */
  async #register(): Promise<boolean> {
    const sentAt = performance.now();
    const value = encodeRecord(this.record());
    const results = await Promise.allSettled(
      this.buckets.nodes.map((kv) => kv.put(this.key, value)),
    );
    results.forEach((r, i) => (this.#revisions[i] = r.status === "fulfilled" ? r.value : 0));
    if (results.filter((r) => r.status === "fulfilled").length < majority(results.length))
      return false;
    this.#lastSentAt = sentAt;
    this.#failed = false;
    this.#armDeadline();
    return true;
  }

  /** Beats at a fixed cadence; a failed round is retried sooner, since the deadline is running. */
  #schedule(delay = this.buckets.options.heartbeatIntervalMs): void {
    if (!this.#running) return;
    this.#beatTimer = setTimeout(() => {
      const startedAt = performance.now();
      this.#beating = this.#beat().then((ok) => {
        this.#beating = undefined;
        const interval = this.buckets.options.heartbeatIntervalMs;
        const next = Math.max(0, interval - (performance.now() - startedAt));
        this.#schedule(ok ? next : Math.min(RETRY_MS, next));
      });
    }, delay);
  }

  /** One round; true when a majority of buckets took it. */
  async #beat(): Promise<boolean> {
    // A round that starts past the deadline must not revive this epoch: someone may own our rooms.
    if (!this.#failed && performance.now() >= this.deadline())
      this.#failStop(FailStopReason.HeartbeatMissed);
    if (this.#failed) return this.#rejoin();
    const sentAt = performance.now();
    const record = this.record();
    const value = encodeRecord(record);
    const outcomes = await Promise.all(
      this.buckets.nodes.map((kv, i) => this.#beatOne(kv, i, value)),
    );
    if (outcomes.includes("superseded")) {
      this.#failStop(FailStopReason.Superseded);
      return false;
    }
    if (outcomes.filter((o) => o === "ok").length < majority(outcomes.length)) return false;
    this.#lastSentAt = sentAt;
    this.#armDeadline();
    this.emit("beat", record);
    return true;
  }

  async #beatOne(kv: KV, i: number, value: Uint8Array): Promise<BeatOutcome> {
    try {
      // previousSeq 0 (after an expiry or a lost bucket) means "must not exist".
      this.#revisions[i] = await kv.put(this.key, value, { previousSeq: this.#revisions[i] });
      if (this.#failing.delete(i)) this.log?.info({ bucket: i }, "heartbeat write recovered");
      return "ok";
    } catch (err) {
      if (isWrongLastSequence(err)) return this.#resolveConflict(kv, i);
      // The first failure of a streak is a warning; the repeats (every beat) are debug.
      if (this.#failing.has(i)) this.log?.debug({ err, bucket: i }, "heartbeat write failed");
      else this.log?.warn({ err, bucket: i }, "heartbeat write failed");
      this.#failing.add(i);
      return "failed";
    }
  }

  /** A failed CAS: our own unacknowledged write landed, the key expired, or a successor wrote. */
  async #resolveConflict(kv: KV, i: number): Promise<BeatOutcome> {
    const entry = await kv.get(this.key).catch(() => undefined);
    this.log?.debug(
      { bucket: i, expected: this.#revisions[i], found: entry?.revision },
      "heartbeat conflict",
    );
    if (entry === undefined) return "failed";
    if (entry === null || entry.operation !== "PUT") {
      this.#revisions[i] = entry?.revision ?? 0;
      return "failed";
    }
    let other: ProcessRecord;
    try {
      other = decodeProcessRecord(this.key, entry.value);
    } catch {
      // A corrupted value: overwrite it at its revision next round.
      this.#revisions[i] = entry.revision;
      return "failed";
    }
    // Our own write that landed unacknowledged, or an older incarnation's leftover
    // in a bucket that was unreachable when we registered: overwrite it next round.
    if (other.epoch === this.#epoch || other.started < this.#started) {
      this.#revisions[i] = entry.revision;
      return "failed";
    }
    return "superseded";
  }

  /** Node timers may fire a little early against performance.now(): re-arm until really past. */
  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    if (this.#failed) return;
    const wait = this.deadline() - performance.now();
    if (wait <= 0) return this.#failStop(FailStopReason.HeartbeatMissed);
    this.#deadlineTimer = setTimeout(() => this.#armDeadline(), wait + 1);
  }

  #failStop(reason: FailStopReason): void {
    if (this.#failed) return;
    this.#failed = true;
    clearTimeout(this.#deadlineTimer);
    this.log?.error({ reason, epoch: this.#epoch }, "fail-stop: heartbeat lost");
    this.emit("failstop", reason, this.#epoch);
    if (reason === FailStopReason.Superseded) {
      this.#running = false;
      clearTimeout(this.#beatTimer);
    }
  }

  /** After a missed deadline we come back as a new incarnation, never as the old one. */
  async #rejoin(): Promise<boolean> {
    this.#epoch = newEpoch();
    try {
      if (!(await this.#register())) return false;
      this.log?.info({ epoch: this.#epoch }, "rejoined under a new epoch");
      this.emit("rejoined", this.#epoch);
      return true;
    } catch (err) {
      this.log?.warn({ err }, "rejoin failed");
      return false;
    }
  }
}
