import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
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
  /** No heartbeat succeeded for TTL - margin: our key may expire any moment. */
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

/**
 * Keeps this process's `rk_nodes` key alive every TTL/3 under a per-start
 * epoch, and fail-stops before that key can expire on the server: the local
 * deadline runs from when the last successful heartbeat was *sent*, so a
 * paused or partitioned process gives up before anyone may take over.
 */
export class Heartbeat extends EventEmitter<HeartbeatEvents> {
  readonly key: string;
  #epoch = newEpoch();
  #revision = 0;
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
    await this.#register();
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
    try {
      await this.buckets.nodes.delete(this.key, { previousSeq: this.#revision });
    } catch (err) {
      this.log?.warn({ err }, "could not delete heartbeat key on stop");
    }
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

  async #register(): Promise<void> {
    const sentAt = performance.now();
    this.#revision = await this.buckets.nodes.put(this.key, encodeRecord(this.record()));
    this.#lastSentAt = sentAt;
    this.#failed = false;
    this.#armDeadline();
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#beatTimer = setTimeout(() => {
      this.#beating = this.#beat().finally(() => {
        this.#beating = undefined;
        this.#schedule();
      });
    }, this.buckets.options.heartbeatIntervalMs);
  }

  async #beat(): Promise<void> {
    if (this.#failed) return this.#rejoin();
    const sentAt = performance.now();
    const record = this.record();
    try {
      this.#revision = await this.buckets.nodes.update(
        this.key,
        encodeRecord(record),
        this.#revision,
      );
      this.#lastSentAt = sentAt;
      this.#armDeadline();
      this.emit("beat", record);
    } catch (err) {
      if (isWrongLastSequence(err)) await this.#resolveConflict();
      else this.log?.warn({ err: String(err) }, "heartbeat failed");
    }
  }

  /** A failed CAS means either our own earlier write landed unacknowledged, or a successor wrote. */
  async #resolveConflict(): Promise<void> {
    const entry = await this.buckets.nodes.get(this.key).catch(() => null);
    if (entry?.operation === "PUT") {
      try {
        const current = decodeProcessRecord(this.key, entry.value);
        if (current.epoch === this.#epoch) {
          this.#revision = entry.revision;
          return;
        }
      } catch {
        // a corrupted value under our key is someone else's write
      }
      return this.#failStop(FailStopReason.Superseded);
    }
    // Our key is gone: it expired, so we are already dead to the cluster.
    this.#failStop(FailStopReason.HeartbeatMissed);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const wait = Math.max(0, this.deadline() - performance.now());
    this.#deadlineTimer = setTimeout(() => {
      if (!this.#failed && performance.now() >= this.deadline()) {
        this.#failStop(FailStopReason.HeartbeatMissed);
      }
    }, wait);
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
  async #rejoin(): Promise<void> {
    this.#epoch = newEpoch();
    try {
      await this.#register();
      this.log?.info({ epoch: this.#epoch }, "rejoined under a new epoch");
      this.emit("rejoined", this.#epoch);
    } catch (err) {
      this.log?.warn({ err: String(err) }, "rejoin failed");
    }
  }
}
