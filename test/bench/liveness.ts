/**
 * Liveness cost versus room count: NATS traffic per second spent keeping a
 * cluster of three processes alive while one of them holds 10 or 10,000 room
 * leases. Measured at the servers (/varz, /jsz) over the same window in one
 * run, on one server and on a 3-server cluster with per-server heartbeat
 * buckets. Goal (DESIGN.md): the 10,000-room figure at most 2x the 10-room one.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember, type ClusterOptions } from "@rookery/cluster";
import { startNatsCluster, startNatsServer, type NatsServer } from "@rookery/testkit";
import { monitor, report } from "./report";

const TTL_MS = 3000;
const WINDOW_MS = 3 * TTL_MS;

interface Sample {
  inMsgs: number;
  outMsgs: number;
  jsApi: number;
}

interface Setup {
  label: string;
  servers: NatsServer[];
  urls: string[];
  cluster: ClusterOptions;
}

/** Summed over every server: in a cluster a message also crosses routes, so totals include that. */
async function sample(servers: NatsServer[]): Promise<Sample> {
  const total: Sample = { inMsgs: 0, outMsgs: 0, jsApi: 0 };
  for (const server of servers) {
    const url = server.monitorUrl!;
    const varz = await monitor(url, "/varz");
    const jsz = await monitor(url, "/jsz");
    total.inMsgs += Number(varz.in_msgs);
    total.outMsgs += Number(varz.out_msgs);
    total.jsApi += Number((jsz.api as { total?: number } | undefined)?.total ?? 0);
  }
  return total;
}

async function acquireAll(holder: ClusterMember, rooms: number): Promise<void> {
  for (let i = 0; i < rooms; i += 200) {
    const ids = Array.from({ length: Math.min(200, rooms - i) }, (_, j) => `r${i + j}`);
    const results = await Promise.all(ids.map((id) => holder.leases.acquire("bench", id)));
    if (results.some((r) => !r.acquired)) throw new Error("a fresh lease was not acquired");
  }
}

async function measure(setup: Setup, rooms: number) {
  const prefix = `bench_liveness_${setup.servers.length}_${rooms}`;
  const connections: NatsConnection[] = [];
  const members: ClusterMember[] = [];
  for (const [id, role] of [
    ["holder", "node"],
    ["peer", "node"],
    ["gw", "gateway"],
  ] as const) {
    const nc = await connect({ servers: setup.urls });
    connections.push(nc);
    const cluster = { prefix, heartbeatTtlMs: TTL_MS, ...setup.cluster };
    const member = new ClusterMember(nc, { identity: { id, role }, cluster });
    await member.start();
    members.push(member);
  }
  await acquireAll(members[0]!, rooms);
  await new Promise((r) => setTimeout(r, 1000));
  const before = await sample(setup.servers);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const after = await sample(setup.servers);
  const seconds = (performance.now() - started) / 1000;
  for (const m of members) await m.stop();
  for (const nc of connections) await nc.close();
  return {
    setup: setup.label,
    rooms,
    "in msgs/s": round((after.inMsgs - before.inMsgs) / seconds),
    "out msgs/s": round((after.outMsgs - before.outMsgs) / seconds),
    "js api/s": round((after.jsApi - before.jsApi) / seconds),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

async function compare(setup: Setup) {
  const small = await measure(setup, 10);
  const large = await measure(setup, 10_000);
  return { small, large, ratio: round(large["in msgs/s"] / small["in msgs/s"]) };
}

export async function runLiveness(): Promise<void> {
  const server = await startNatsServer();
  const cluster = await startNatsCluster(3);
  try {
    const single = await compare({
      label: "1 server",
      servers: [server],
      urls: [server.url],
      cluster: {},
    });
    const clustered = await compare({
      label: "3 servers, R3, 3 heartbeat buckets",
      servers: cluster.servers,
      urls: cluster.urls,
      cluster: { replicas: 3, heartbeatTags: cluster.tags },
    });
    const worst = Math.max(single.ratio, clustered.ratio);
    report(
      "liveness (3 processes, TTL 3 s, window 9 s)",
      [single.small, single.large, clustered.small, clustered.large],
      {
        ratio10kTo10Single: single.ratio,
        ratio10kTo10Cluster: clustered.ratio,
        goal: "<= 2",
        pass: worst <= 2,
      },
    );
  } finally {
    await server.stop();
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runLiveness();
