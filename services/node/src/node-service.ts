import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { ActorHost, type LocalGateway, type RoomDefinition } from "@rookery/actors";
import { ClusterMember, connectNats } from "@rookery/cluster";
import type { NodeConfig } from "./config";
import { NodeMetrics } from "./metrics";

type AnyDefinition = RoomDefinition<never, never>;

/**
 * The actor node process: joins the cluster, hosts room actors for the room
 * types it knows, serves `/metrics`. `stop()` drains: every room is
 * snapshotted and released so that its next frame activates it elsewhere.
 */
export class NodeService {
  #nc: NatsConnection | undefined;
  #control: NatsConnection | undefined;
  #member: ClusterMember | undefined;
  #host: ActorHost | undefined;
  #metrics: NodeMetrics | undefined;
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

  async start(): Promise<void> {
    const { config } = this;
    // A short reconnect wait matters: heartbeats must resume well within the TTL.
    // No async stack traces: they build an Error per request (a measurable cost per input).
    const options = {
      servers: config.natsUrl,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      noAsyncTraces: true,
    };
    this.#nc = await connectNats(config.natsAuth, { ...options, name: `${config.id}-data` });
    // Heartbeats get a connection of their own: they must never queue behind room traffic.
    this.#control = await connectNats(config.natsAuth, {
      ...options,
      name: `${config.id}-control`,
    });
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
    this.metricsPort = await this.#metrics.listen(config.metricsPort);
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
    await this.#host?.stop();
    await this.#member?.stop();
    await this.#metrics?.close();
    await this.#nc?.drain().catch(() => undefined);
    await this.#control?.drain().catch(() => undefined);
    this.log.info("node stopped");
  }
}

/** Collects every export of a module that looks like a room definition. */
export function roomsOf(module: Record<string, unknown>): AnyDefinition[] {
  return Object.values(module).filter(
    (v): v is AnyDefinition =>
      typeof v === "object" &&
      v !== null &&
      typeof (v as { type?: unknown }).type === "string" &&
      typeof (v as { onMessage?: unknown }).onMessage === "object",
  );
}
