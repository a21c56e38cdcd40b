import { EventEmitter } from "node:events";
import type { KvEntry } from "@nats-io/kv";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import { isWrongLastSequence } from "./errors";
import type { Heartbeat } from "./heartbeat";
import { dutyKey } from "./names";
import { decodeDutyRecord, encodeRecord, type DutyRecord } from "./records";

export interface SingletonEvents {
  acquired: [];
  lost: [reason: string];
}

/**
 * One holder at a time for a named duty, kept in `rk_nodes` as `duty.<name>`
 * (so it ages out with the same TTL as a heartbeat). The holder renews it by
 * CAS every TTL/3; everyone else polls it at that rate and claims it by CAS
 * once it is missing or vacant. Cost: O(processes), whatever the duty does.
 */
export class Singleton extends EventEmitter<SingletonEvents> {
  readonly key: string;
  #revision = 0;
  #lastSentAt = 0;
  #holding = false;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly heartbeat: Heartbeat,
    readonly name: string,
    private readonly log?: Logger,
  ) {
    super();
    this.key = dutyKey(name);
    heartbeat.on("failstop", () => this.#lose("fail-stop"));
  }

  /** True while we hold the duty and are within our fail-stop deadline. */
  get isHolder(): boolean {
    const { heartbeatTtlMs, failStopMarginMs } = this.buckets.options;
    return (
      this.#holding && performance.now() < this.#lastSentAt + heartbeatTtlMs - failStopMarginMs
    );
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.#step();
    this.#schedule();
  }

  /** Hands the duty over: marks it vacant by CAS so the next process claims it at once. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#tick;
    if (!this.#holding) return;
    this.#holding = false;
    const vacant: DutyRecord = { holder: null, epoch: null, at: Date.now() };
    await this.buckets.nodes.update(this.key, encodeRecord(vacant), this.#revision).catch(() => 0);
    this.emit("lost", "stopped");
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#step()
        .catch((err) =>
          this.log?.warn({ err: String(err), duty: this.name }, "singleton step failed"),
        )
        .finally(() => this.#schedule());
    }, this.buckets.options.heartbeatIntervalMs);
  }

  async #step(): Promise<void> {
    if (!this.heartbeat.isAlive()) return this.#lose("not alive");
    if (this.#holding && !this.isHolder) this.#lose("deadline missed");
    if (this.#holding) return this.#renew();
    const entry = await this.buckets.nodes.get(this.key);
    if (this.#isVacant(entry)) await this.#claim(entry);
  }

  #isVacant(entry: KvEntry | null): boolean {
    if (!entry || entry.operation !== "PUT") return true;
    try {
      return decodeDutyRecord(this.key, entry.value).holder === null;
    } catch {
      return true;
    }
  }

  #record(): Uint8Array {
    return encodeRecord({ holder: this.heartbeat.id, epoch: this.heartbeat.epoch, at: Date.now() });
  }

  async #claim(entry: KvEntry | null): Promise<void> {
    const sentAt = performance.now();
    try {
      this.#revision = await this.buckets.nodes.put(this.key, this.#record(), {
        previousSeq: entry?.revision ?? 0,
      });
    } catch (err) {
      if (isWrongLastSequence(err)) return;
      throw err;
    }
    this.#lastSentAt = sentAt;
    this.#holding = true;
    this.log?.info({ duty: this.name }, "duty acquired");
    this.emit("acquired");
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      this.#revision = await this.buckets.nodes.update(this.key, this.#record(), this.#revision);
      this.#lastSentAt = sentAt;
    } catch (err) {
      if (isWrongLastSequence(err)) return this.#lose("taken");
      if (!this.isHolder) this.#lose("renewal failed");
    }
  }

  #lose(reason: string): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.log?.warn({ duty: this.name, reason }, "duty lost");
    this.emit("lost", reason);
  }
}
