import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ActorHost, type RuntimeOptions } from "@rookery/actors";
import { NatsHostCluster } from "@rookery/actors/nats";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { pino, type Logger } from "pino";
import { InternalKind, type MemberInfo, type RoomReply } from "@rookery/protocol/internal";
import {
  alarmRoom,
  ephemeralLedgerRoom,
  fickleRoom,
  flakyRoom,
  ledgerRoom,
  secretRoom,
  stageRoom,
} from "./fixtures/rooms";

export const testRooms = [
  ledgerRoom,
  ephemeralLedgerRoom,
  flakyRoom,
  alarmRoom,
  secretRoom,
  stageRoom,
  fickleRoom,
];

/** In-process nodes and routers for one test, all closed by `close()`. */
export class Cluster {
  readonly hosts: ActorHost[] = [];
  readonly #connections: NatsConnection[] = [];
  readonly #members: ClusterMember[] = [];
  /** Warnings and errors of the in-process nodes, newest last (printed by failing tests). */
  readonly logs: string[] = [];
  readonly #logger = nodeLogger(this.logs);

  constructor(
    private readonly url: string | string[],
    readonly prefix: string,
    /** Bucket settings of every member (replicas, heartbeat tags on a server cluster). */
    private readonly clusterOptions: { replicas?: number; heartbeatTags?: string[] } = {},
  ) {}

  async node(id: string, options: RuntimeOptions = {}): Promise<ActorHost> {
    const nc = await this.#connect();
    // Heartbeats publish the room count as load, as the node service does.
    const ref: { host?: ActorHost } = {};
    const member = new ClusterMember(nc, {
      identity: { id, role: "node" },
      cluster: { prefix: this.prefix, ...this.clusterOptions },
      load: () => ref.host?.size ?? 0,
      logger: this.#logger,
    });
    await member.start();
    this.#members.push(member);
    const host = (ref.host = new ActorHost(member, testRooms as never, options));
    await host.start();
    this.hosts.push(host);
    return host;
  }

  /**
   * A registered gateway, so members joined "through" it count as live:
   * rooms drop members of gateways that are not (ghosts) when they activate.
   */
  async gateway(id = "gw-test"): Promise<(user: string) => MemberInfo> {
    return (await this.gatewayMember(id)).info;
  }

  /** A registered gateway that a test can stop (its members then leave every room). */
  async gatewayMember(
    id: string,
  ): Promise<{ info: (user: string) => MemberInfo; stop: () => Promise<void> }> {
    const nc = await this.#connect();
    const gateway = new ClusterMember(nc, {
      identity: { id, role: "gateway" },
      cluster: { prefix: this.prefix, ...this.clusterOptions },
      sweeper: false,
    });
    await gateway.start();
    this.#members.push(gateway);
    return {
      info: (user) => memberInfo(user, id, gateway.heartbeat.epoch),
      stop: () => gateway.stop(),
    };
  }

  async router(totalWaitMs = 10_000): Promise<RoomRouter> {
    return new RoomRouter(await this.#connect(), { prefix: this.prefix, totalWaitMs });
  }

  /** Runs a test's body; prints the nodes' warnings if it fails; closes the cluster either way. */
  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (error) {
      console.error(`node warnings:\n${this.logs.join("\n")}`);
      throw error;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.hosts.map((h) => h.stop()));
    await Promise.allSettled(this.#members.map((m) => m.stop()));
    await Promise.allSettled(this.#connections.map((nc) => nc.close()));
  }

  async #connect(): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    this.#connections.push(nc);
    return nc;
  }
}

export function memberInfo(user: string, gateway = "gw-test", gatewayEpoch = "e0"): MemberInfo {
  return {
    id: `${user}:session-${user}-00000001`,
    user,
    name: user,
    gateway,
    gatewayEpoch,
    conn: `c-${user}`,
  };
}

/** The cluster member of a host built by {@link Cluster.node} (a NATS host). */
export function memberOf(host: ActorHost): ClusterMember {
  if (!(host.cluster instanceof NatsHostCluster)) throw new Error("not a host on NATS");
  return host.cluster.member;
}

export function expectKind<K extends RoomReply["k"]>(
  reply: RoomReply,
  k: K,
): Extract<RoomReply, { k: K }> {
  if (reply.k !== k) throw new Error(`expected ${k}, got ${JSON.stringify(reply)}`);
  return reply as Extract<RoomReply, { k: K }>;
}

export { InternalKind };

/**
 * The nodes' warnings and errors, kept in `lines` (the last 200); with
 * `ROOKERY_TEST_LOG=<file>`, everything down to debug also goes to that file.
 */
function nodeLogger(lines: string[]): Logger {
  const keep = {
    write(line: string) {
      lines.push(line.trimEnd());
      if (lines.length > 200) lines.shift();
    },
  };
  const file = process.env.ROOKERY_TEST_LOG;
  const streams: pino.StreamEntry[] = [{ level: "warn", stream: keep }];
  if (file) streams.push({ level: "debug", stream: pino.destination({ dest: file, sync: true }) });
  return pino({ level: file ? "debug" : "warn" }, pino.multistream(streams));
}
