import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { ClusterBuckets } from "./buckets";
import type { Heartbeat } from "./heartbeat";
import type { Lease, LeaseManager } from "./leases";
import type { MembershipView } from "./membership";
import { dutyKey } from "./names";

export interface SingletonEvents {
  acquired: [];
  lost: [reason: string];
}

/**
 * One holder at a time for a named duty. A duty is a lease like a room's
 * (key `=duty.<name>` in the leases bucket): held while the holder's heartbeat
 * epoch lives, never renewed, taken over by CAS once the holder is down, and
 * released by marking it free. Contenders try again on every `down` event and
 * every TTL/3, so the cost stays O(processes).
 */
export class Singleton extends EventEmitter<SingletonEvents> {
  readonly key: string;
  #lease: Lease | undefined;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #claiming: Promise<void> | undefined;
  readonly #onDown = () => this.#claimSoon();
  readonly #onLost = (lease: Lease, reason: string) => {
    if (lease !== this.#lease) return;
    this.#lease = undefined;
    // Released on stop is the normal hand-over; anything else is worth a look.
    if (reason === "released") this.log?.info({ duty: this.name, reason }, "duty released");
    else this.log?.warn({ duty: this.name, reason }, "duty lost");
    this.emit("lost", reason);
  };

  constructor(
    private readonly buckets: ClusterBuckets,
    private readonly heartbeat: Heartbeat,
    private readonly view: MembershipView,
    private readonly leases: LeaseManager,
    readonly name: string,
    private readonly log?: Logger,
  ) {
    super();
    this.key = dutyKey(name);
  }

  /** True while we hold the duty and our heartbeat is within its fail-stop deadline. */
  get isHolder(): boolean {
    return this.#lease !== undefined && this.heartbeat.isAlive();
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.view.on("down", this.#onDown);
    this.leases.on("lost", this.#onLost);
    await this.#claim();
    this.#schedule();
  }

  /** Hands the duty over: the lease is marked free so the next contender claims it at once. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.view.off("down", this.#onDown);
    await this.#claiming;
    const lease = this.#lease;
    if (lease) await this.leases.release(lease).catch(() => undefined);
    this.leases.off("lost", this.#onLost);
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#claimSoon();
      this.#schedule();
    }, this.buckets.options.heartbeatIntervalMs);
  }

  #claimSoon(): void {
    if (!this.#running || this.#lease || this.#claiming) return;
    this.#claiming = this.#claim()
      .catch((err) => this.log?.warn({ duty: this.name, err }, "duty claim failed"))
      .finally(() => (this.#claiming = undefined));
  }

  async #claim(): Promise<void> {
    if (this.#lease || !this.heartbeat.isAlive()) return;
    const result = await this.leases.acquireDuty(this.name);
    if (!result.acquired || !this.#running) return;
    this.#lease = result.lease;
    this.log?.info({ duty: this.name }, "duty acquired");
    this.emit("acquired");
  }
}
