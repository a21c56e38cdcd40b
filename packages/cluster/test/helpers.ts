import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember, type ClusterOptions, type ProcessRole } from "@rookery/cluster";
import { pino } from "pino";

export const TTL_MS = 3000;

/** A child process that joins the cluster and holds leases (see the fixture's header). */
export const holderScript = new URL("./fixtures/lease-holder.ts", import.meta.url).pathname;

/** Opens connections and members for one test and closes all of them afterwards. */
export class Members {
  readonly #connections: NatsConnection[] = [];
  readonly #members: ClusterMember[] = [];

  constructor(
    private readonly servers: string | string[],
    private readonly prefix: string,
  ) {}

  async connect(): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.servers,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    this.#connections.push(nc);
    return nc;
  }

  async start(
    id: string,
    role: ProcessRole = "node",
    cluster: ClusterOptions = {},
    extra: { sweeper?: boolean; region?: string } = {},
  ): Promise<ClusterMember> {
    const nc = await this.connect();
    const member = new ClusterMember(nc, {
      identity: { id, role, region: extra.region ?? "local" },
      cluster: { prefix: this.prefix, heartbeatTtlMs: TTL_MS, ...cluster },
      sweeper: extra.sweeper ?? true,
      logger: pino({ level: process.env.ROOKERY_TEST_LOG ?? "silent" }, pino.destination(2)),
    });
    await member.start();
    this.#members.push(member);
    return member;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#members.map((m) => m.stop()));
    await Promise.allSettled(this.#connections.map((nc) => nc.close()));
  }
}
