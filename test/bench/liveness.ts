/**
 * Liveness cost versus room count: KV/NATS traffic per second spent keeping a
 * cluster of three processes alive while one of them holds 10 or 10,000 room
 * leases. Measured at the server (/varz, /jsz) over the same window in one run.
 * Goal (DESIGN.md): the 10,000-room figure at most 2x the 10-room one.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember } from "@rookery/cluster";
import { startNatsServer, type NatsServer } from "@rookery/testkit";
import { monitor, report } from "./report";

const TTL_MS = 3000;
const WINDOW_MS = 3 * TTL_MS;

interface Sample {
  inMsgs: number;
  outMsgs: number;
  jsApi: number;
}

async function sample(server: NatsServer): Promise<Sample> {
  const url = server.monitorUrl!;
  const varz = await monitor(url, "/varz");
  const jsz = await monitor(url, "/jsz");
  const api = (jsz.api ?? {}) as { total?: number };
  return {
    inMsgs: Number(varz.in_msgs),
    outMsgs: Number(varz.out_msgs),
    jsApi: Number(api.total ?? 0),
  };
}

async function measure(server: NatsServer, rooms: number) {
  const prefix = `bench_liveness_${rooms}`;
  const connections: NatsConnection[] = [];
  const members: ClusterMember[] = [];
  for (const [id, role] of [
    ["holder", "node"],
    ["peer", "node"],
    ["gw", "gateway"],
  ] as const) {
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    const member = new ClusterMember(nc, {
      identity: { id, role },
      cluster: { prefix, heartbeatTtlMs: TTL_MS },
    });
    await member.start();
    members.push(member);
  }
  const holder = members[0]!;
  for (let i = 0; i < rooms; i += 200) {
    const ids = Array.from({ length: Math.min(200, rooms - i) }, (_, j) => `r${i + j}`);
    await Promise.all(ids.map((id) => holder.leases.acquire("bench", id)));
  }
  if (holder.leases.held().length !== rooms) throw new Error("not every lease acquired");
  await new Promise((r) => setTimeout(r, 1000));
  const before = await sample(server);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const after = await sample(server);
  const seconds = (performance.now() - started) / 1000;
  for (const m of members) await m.stop();
  for (const nc of connections) await nc.close();
  return {
    rooms,
    "in msgs/s": round((after.inMsgs - before.inMsgs) / seconds),
    "out msgs/s": round((after.outMsgs - before.outMsgs) / seconds),
    "js api/s": round((after.jsApi - before.jsApi) / seconds),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

export async function runLiveness(): Promise<void> {
  const server = await startNatsServer();
  try {
    const small = await measure(server, 10);
    const large = await measure(server, 10_000);
    const ratio = round(large["in msgs/s"] / small["in msgs/s"]);
    report("liveness (3 processes, TTL 3 s, window 9 s)", [small, large], {
      ratio10kTo10: ratio,
      goal: "<= 2",
      pass: ratio <= 2,
    });
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runLiveness();
