import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { pino, type Logger } from "pino";
import { ensureBuckets, type ClusterBuckets } from "./buckets";
import { Heartbeat, type ProcessIdentity } from "./heartbeat";
import { LeaseManager } from "./leases";
import { MembershipView } from "./membership";
import type { ClusterOptions } from "./options";
import { Singleton } from "./singleton";
import { Sweeper } from "./sweeper";
import { NotStartedError } from "./errors";

export interface ClusterMemberOptions {
  identity: ProcessIdentity;
  /** Bucket, TTL and namespace settings. @default defaultClusterOptions() */
  cluster?: ClusterOptions;
  /** Current load reported in every heartbeat (rooms, connections...). @default () => 0 */
  load?: () => number;
  /** Run the `sweeper` duty when this process wins it. @default true */
  sweeper?: boolean;
  /** @default a silent pino logger */
  logger?: Logger;
  /**
   * A second connection for heartbeats and the membership view, so that
   * liveness never queues behind bulk traffic (room activations, journals)
   * on the main connection. @default the main connection
   */
  control?: NatsConnection;
}

/**
 * Everything one process needs to take part in the cluster: buckets, its own
 * heartbeat, the membership view, room leases and the sweeper duty.
 *
 * ```ts
 * const member = new ClusterMember(nc, { identity: { id: "node-1", role: "node" } });
 * await member.start();
 * const result = await member.leases.acquire("chess", "game-42");
 * await member.stop();
 * ```
 */
export class ClusterMember {
  #buckets: ClusterBuckets | undefined;
  #heartbeat: Heartbeat | undefined;
  #view: MembershipView | undefined;
  #leases: LeaseManager | undefined;
  #duty: Singleton | undefined;
  #sweeper: Sweeper | undefined;
  #starting: Promise<void> | undefined;
  readonly log: Logger;
  readonly js: JetStreamClient;

  constructor(
    readonly nc: NatsConnection,
    private readonly options: ClusterMemberOptions,
  ) {
    const base = options.logger ?? pino({ level: "silent" });
    // Only keys the caller's logger does not carry yet: pino repeats a key bound twice.
    const bound = base.bindings();
    this.log = base.child({
      ...(bound.node === undefined && bound[options.identity.role] === undefined
        ? { [options.identity.role]: options.identity.id }
        : {}),
      ...(bound.component === undefined ? { component: "cluster" } : { sub: "cluster" }),
    });
    this.js = jetstream(nc);
  }

  get buckets(): ClusterBuckets {
    return required(this.#buckets, "buckets");
  }
  get heartbeat(): Heartbeat {
    return required(this.#heartbeat, "heartbeat");
  }
  get view(): MembershipView {
    return required(this.#view, "membership view");
  }
  get leases(): LeaseManager {
    return required(this.#leases, "lease manager");
  }
  get sweeper(): Singleton {
    return required(this.#duty, "sweeper duty");
  }

  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const buckets = await ensureBuckets(this.nc, this.options.cluster);
    const control = this.options.control
      ? await ensureBuckets(this.options.control, this.options.cluster)
      : buckets;
    this.#buckets = buckets;
    this.#heartbeat = new Heartbeat(control, this.options.identity, this.options.load, this.log);
    await this.#heartbeat.start();
    this.#view = new MembershipView(control, this.log);
    await this.#view.start();
    this.#leases = new LeaseManager(buckets, this.#heartbeat, this.#view, this.log);
    this.#duty = new Singleton(
      buckets,
      this.#heartbeat,
      this.#view,
      this.#leases,
      "sweeper",
      this.log,
    );
    if (this.options.sweeper !== false) {
      this.#sweeper = new Sweeper(this.nc, buckets, this.#view, this.#duty, this.log);
      this.#sweeper.start();
      await this.#duty.start();
    }
  }

  /** Idempotent: hands the sweeper duty over, then deletes the heartbeat key. */
  async stop(): Promise<void> {
    if (!this.#starting) return;
    await this.#starting.catch(() => undefined);
    await this.#sweeper?.stop();
    await this.#duty?.stop();
    await this.#view?.stop();
    await this.#heartbeat?.stop();
    this.#starting = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new NotStartedError(what);
  return value;
}
