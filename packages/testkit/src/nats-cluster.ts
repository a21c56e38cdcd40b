/** A cluster of real nats-server processes routed over loopback, JetStream clustered. */
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { NatsClusterStartError } from "./errors";
import { findNatsServer } from "./find-server";
import { launchNatsServer, makeServerDir, type NatsServer } from "./nats-server";
import {
  ANY_PORT,
  type NatsServerOptions,
  type ResolvedNatsServerOptions,
  resolveNatsServerOptions,
} from "./server-config";
import { jetStreamAnswers, metaLeader, routeCount } from "./server-probes";
import { until } from "./until";

const READY_TIMEOUT_MS = 20_000;
const START_ATTEMPTS = 3;

/** N nats-server processes forming one cluster; each can be killed and restarted alone. */
export class NatsCluster {
  readonly name: string;
  readonly servers: NatsServer[];
  /** Client URLs of all members, for a client's `servers` list. */
  readonly urls: string[];
  /** One JetStream placement tag per member, in member order: `server:<index>`. */
  readonly tags: string[];

  /** Internal: use {@link startNatsCluster}. */
  constructor(name: string, servers: NatsServer[]) {
    this.name = name;
    this.servers = servers;
    this.urls = servers.map((s) => s.url);
    this.tags = servers.map((_, i) => memberTag(i));
  }

  /**
   * The member currently leading the JetStream meta group, as the first running member that
   * knows one reports it; undefined while there is none. Killing it costs a meta election
   * (several seconds on nats-server 2.9).
   */
  async metaLeader(): Promise<NatsServer | undefined> {
    for (const server of this.servers) {
      const monitorUrl = server.monitorUrl;
      if (monitorUrl === undefined) continue;
      const leader = await metaLeader(monitorUrl).catch(() => undefined);
      if (leader !== undefined) return this.servers.find((s) => s.name === leader);
    }
    return undefined;
  }

  /** Stops every member gracefully, concurrently. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }

  /** Stops every member and removes their temp dirs. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.servers.map((s) => s[Symbol.asyncDispose]()));
  }
}

/**
 * Free loopback ports, found by listening once. For the route listeners: nats-server 2.9
 * refuses to start clustered JetStream without configured routes, so the route ports must be
 * known before any member starts; they cannot be left to `-1` like the client ports. (Also for
 * any process a test restarts on the same port.)
 */
export async function reservePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (server) =>
        new Promise<number>((resolve, reject) => {
          server.once("error", reject);
          server.listen({ host: "127.0.0.1", port: 0 }, () => {
            const address = server.address();
            resolve(typeof address === "object" && address !== null ? address.port : 0);
          });
        }),
    ),
  );
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

async function disposeAll(started: PromiseSettledResult<NatsServer>[]): Promise<void> {
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
}

/** Placement tag of member `i`, so a stream can be pinned to one server. */
export const memberTag = (i: number) => `server:${i}`;

/** Launches every member with routes to all route ports (its own included). */
async function launchMembers(
  size: number,
  name: string,
  exe: string,
  options: ResolvedNatsServerOptions,
): Promise<NatsServer[]> {
  const ports = await reservePorts(size);
  const started = await Promise.allSettled(
    ports.map(async (port, i) =>
      launchNatsServer({
        exe,
        dir: await makeServerDir(),
        name: `${name}_s${i}`,
        options,
        clientPort: ANY_PORT,
        // Listing itself too makes the route count equal the cluster size, which nats-server
        // uses as the initial JetStream meta group size; a self-route is ignored.
        cluster: { name, port, routes: ports, tags: [memberTag(i)] },
      }),
    ),
  );
  const failed = started.find((r) => r.status === "rejected");
  if (failed === undefined)
    return started.map((r) => (r as PromiseFulfilledResult<NatsServer>).value);
  await disposeAll(started);
  throw failed.reason;
}

function isPortClash(error: unknown): boolean {
  return error instanceof Error && /address already in use/i.test(error.message);
}

async function isReady(servers: NatsServer[], jetstream: boolean): Promise<boolean> {
  const monitors = servers.map((s) => s.monitorUrl);
  if (monitors.some((m) => m === undefined)) return false;
  const urls = monitors as string[];
  const routes = await Promise.all(urls.map(routeCount));
  if (routes.some((n) => n < servers.length - 1)) return false;
  if (!jetstream) return true;
  const leaders = await Promise.all(urls.map(metaLeader));
  if (leaders.some((l) => l === undefined || l !== leaders[0])) return false;
  return jetStreamAnswers(servers.map((s) => s.url));
}

async function waitReady(cluster: NatsCluster, jetstream: boolean): Promise<void> {
  const what = jetstream ? "full mesh and one JetStream meta leader" : "full mesh";
  await until(
    () => isReady(cluster.servers, jetstream),
    READY_TIMEOUT_MS,
    `cluster ${cluster.name}: ${what}`,
  );
}

/**
 * Starts `size` nats-servers (JetStream on by default) on free loopback ports, routed to each
 * other as one cluster, and waits for the full route mesh and, with JetStream, an agreed meta
 * leader. Restarting a member keeps its ports and routes, so it rejoins.
 */
export async function startNatsCluster(size = 3, opts?: NatsServerOptions): Promise<NatsCluster> {
  if (!Number.isInteger(size) || size < 2) {
    throw new NatsClusterStartError(`a cluster needs at least 2 servers, got ${size}`);
  }
  const options = resolveNatsServerOptions(opts);
  const exe = findNatsServer();
  const name = `rk_${randomBytes(3).toString("hex")}`;
  for (let attempt = 1; ; attempt++) {
    let servers: NatsServer[];
    try {
      servers = await launchMembers(size, name, exe, options);
    } catch (error) {
      // A reserved route port can be taken by someone else before the server binds it.
      if (isPortClash(error) && attempt < START_ATTEMPTS) continue;
      throw new NatsClusterStartError(`cluster ${name} did not start: ${String(error)}`, {
        cause: error,
      });
    }
    const cluster = new NatsCluster(name, servers);
    try {
      await waitReady(cluster, options.jetstream);
      return cluster;
    } catch (error) {
      await cluster[Symbol.asyncDispose]();
      throw new NatsClusterStartError(`cluster ${name} did not become ready: ${String(error)}`, {
        cause: error,
      });
    }
  }
}
