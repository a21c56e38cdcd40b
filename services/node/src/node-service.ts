import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { ActorHost, isRoom, type LocalGateway, type RoomDefinition } from "@rookery/actors";
import { ClusterMember, connectNats } from "@rookery/cluster";
import { loggedConnectRetry } from "@rookery/cluster/internal";
import { AdminServer } from "./admin-server";
import type { NodeConfig } from "./config";
import { NodeMetrics } from "./metrics";

type AnyDefinition = RoomDefinition<never, never>;

/**
 * The actor node process: joins the cluster, hosts room actors for the room
 * types it knows, serves `/metrics`, `/healthz` and `/readyz` on its metrics
 * port (admin-server.ts). `stop()` drains: every room is
 * snapshotted and released so that its next frame activates it elsewhere.
 */
export class NodeService {
  #nc: NatsConnection | undefined;
  #control: NatsConnection | undefined;
  #member: ClusterMember | undefined;
  #host: ActorHost | undefined;
  #metrics: NodeMetrics | undefined;
  #admin: AdminServer | undefined;
  #started = false;
  readonly #readiness: (() => boolean)[] = [];
  #stopping: Promise<void> | undefined;
  metricsPort = 0;

  constructor(
    readonly config: NodeConfig,
    private readonly rooms: AnyDefinition[],
    private readonly log: Logger,
    /** The gateway role of this process, in the co-located shape. */
    private readonly local?: LocalGateway,
  ) {}

  get host(): ActorHost {
    if (!this.#host) throw new Error("node service not started");
    return this.#host;
  }

  /**
   * In the cluster with a live heartbeat, connected, not draining, and every
   * check added with {@link addReadinessCheck} passes (`/readyz`).
   */
  get ready(): boolean {
    return (
      this.#started &&
      !this.#stopping &&
      this.#nc?.isClosed() === false &&
      this.#member?.heartbeat.isAlive() === true &&
      this.#readiness.every((check) => check())
    );
  }

  /** Another condition of `/readyz` (the gateway role of a co-located process). */
  addReadinessCheck(check: () => boolean): void {
    this.#readiness.push(check);
  }

  async start(): Promise<void> {
    const { config } = this;
    // The admin port answers first: a node waiting for NATS is alive, not ready.
    this.#admin = new AdminServer({
      ready: () => this.ready,
      metrics: () =>
        this.#metrics &&
        this.#metrics.registry
          .metrics()
          .then((body) => ({ contentType: this.#metrics!.registry.contentType, body })),
    });
    this.metricsPort = await this.#admin.listen(config.metricsPort);
    const retry = loggedConnectRetry(this.log);
    // A short reconnect wait matters: heartbeats must resume well within the TTL.
    // No async stack traces: they build an Error per request (a measurable cost per input).
    const options = {
      servers: config.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      noAsyncTraces: true,
    };
    this.#nc = await connectNats(config.natsAuth, { ...options, name: `${config.id}-data` }, retry);
    // Heartbeats get a connection of their own: they must never queue behind room traffic.
    this.#control = await connectNats(
      config.natsAuth,
      { ...options, name: `${config.id}-control` },
      retry,
    );
    this.#member = new ClusterMember(this.#nc, {
      identity: { id: config.id, role: "node", region: config.region },
      cluster: {
        prefix: config.prefix,
        replicas: config.replicas,
        heartbeatTtlMs: config.heartbeatTtlMs,
        heartbeatTags: config.heartbeatTags,
      },
      // A drained node publishes its capacity: others never leave a placement to it.
      load: () => (this.#host?.draining ? config.capacity : (this.#host?.size ?? 0)),
      logger: this.log,
      control: this.#control,
    });
    await this.#member.start();
    this.#host = new ActorHost(
      this.#member,
      this.rooms,
      { capacity: config.capacity, idleMs: config.idleMs, handlerBudgetMs: config.handlerBudgetMs },
      this.log,
    );
    if (this.local) this.#host.attachGateway(this.local);
    this.#metrics = new NodeMetrics(this.#host);
    this.#metrics.watchMember(this.#member);
    this.#metrics.watchConnection(this.#nc, "data");
    this.#metrics.watchConnection(this.#control, "control");
    await this.#host.start();
    this.#started = true;
    this.log.info(
      { rooms: this.rooms.map((r) => (r as { type: string }).type), metrics: this.metricsPort },
      "node ready",
    );
  }

  /** Drain and leave. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.log.info({ rooms: this.#host?.size ?? 0 }, "node draining");
    await this.#host?.stop();
    await this.#member?.stop();
    await this.#metrics?.close();
    await this.#admin?.close();
    await this.#nc?.drain().catch(() => undefined);
    await this.#control?.drain().catch(() => undefined);
    this.log.info("node drained");
  }
}

/** Collects every export of a module made by `defineRoom` (branded); other exports are ignored. */
export function roomsOf(module: Record<string, unknown>): AnyDefinition[] {
  return Object.values(module).filter(isRoom);
}
