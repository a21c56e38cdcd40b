/**
 * Actor node figures (issue: actor runtime): inputs/s through one node for
 * durable and ephemeral rooms, cold activation latency p50/p99, and memory per
 * idle active room, with one real node process and one nats-server.
 * Budgets (DESIGN.md): activation p50 < 5 ms; < 4 KB per idle active room.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RoomRouter } from "@rookery/actors";
import { ClusterMember } from "@rookery/cluster";
import { InternalKind, type MemberInfo } from "@rookery/protocol";
import { spawnChild, startNatsServer, type ChildHandle, type NatsServer } from "@rookery/testkit";
import { report } from "./report";

const main = new URL("../../services/node/src/main.ts", import.meta.url).pathname;
const fixtures = new URL("../../packages/actors/test/fixtures/rooms.ts", import.meta.url).pathname;
const PREFIX = "bench_node";

async function startNode(server: NatsServer): Promise<{ child: ChildHandle; metricsPort: number }> {
  const child = await spawnChild({
    script: main,
    env: {
      NATS_URL: server.url,
      ROOKERY_ID: "bench-node",
      ROOKERY_PREFIX: PREFIX,
      ROOKERY_ROOM_MODULES: fixtures,
      ROOKERY_METRICS_PORT: "0",
      ROOKERY_LOG_LEVEL: "warn",
      ROOKERY_IDLE_MS: "0",
    },
  });
  const ready = JSON.parse(await child.waitForLine(/"event":"ready"/, 20_000)) as {
    metricsPort: number;
  };
  return { child, metricsPort: ready.metricsPort };
}

async function heapUsed(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_heap_size_used_bytes "));
  return Number(line?.split(" ")[1] ?? NaN);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function activationLatency(router: RoomRouter, count: number) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await router.place("ledger", `cold-${i}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: round(percentile(times, 0.5)), p99: round(percentile(times, 0.99)) };
}

async function memoryPerRoom(router: RoomRouter, metricsPort: number, count: number) {
  const before = await heapUsed(metricsPort);
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) =>
        router.place("eledger", `idle-${i + j}`),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await heapUsed(metricsPort);
  return round((after - before) / count, 0);
}

async function throughput(
  routers: RoomRouter[],
  member: MemberInfo,
  type: string,
  rooms: number,
  seconds: number,
) {
  const ids = Array.from({ length: rooms }, (_, i) => `${type}-tp-${i}`);
  await Promise.all(
    ids.map((id, i) =>
      routers[i % routers.length]!.request(type, id, { k: InternalKind.Join, member }),
    ),
  );
  let acked = 0;
  let running = true;
  const loops = ids.map(async (id, i) => {
    const router = routers[i % routers.length]!;
    for (let seq = 1; running; seq++) {
      const reply = await router.request(type, id, {
        k: InternalKind.Input,
        member: member.id,
        seq,
        type: "add",
        body: { n: 1, tag: `${seq}` },
      });
      if (reply.k === InternalKind.Acked) acked++;
    }
  });
  await new Promise((r) => setTimeout(r, 1000));
  const start = acked;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const rate = (acked - start) / ((performance.now() - started) / 1000);
  running = false;
  await Promise.all(loops);
  return round(rate, 0);
}

export async function runNode(): Promise<void> {
  const server = await startNatsServer();
  const connections: NatsConnection[] = [];
  const { child, metricsPort } = await startNode(server);
  try {
    for (let i = 0; i < 4; i++) connections.push(await connect({ servers: server.url }));
    const routers = connections.map(
      (nc) => new RoomRouter(nc, { prefix: PREFIX, totalWaitMs: 30_000 }),
    );
    const gateway = new ClusterMember(connections[0]!, {
      identity: { id: "bench-gw", role: "gateway" },
      cluster: { prefix: PREFIX },
      sweeper: false,
    });
    await gateway.start();
    const member: MemberInfo = {
      id: "bench:session-bench-000000001",
      user: "bench",
      name: "bench",
      gateway: "bench-gw",
      gatewayEpoch: gateway.heartbeat.epoch,
      conn: "c",
    };

    const activation = await activationLatency(routers[0]!, 300);
    const bytesPerRoom = await memoryPerRoom(routers[0]!, metricsPort, 5000);
    const durable = await throughput(routers, member, "ledger", 64, 5);
    const ephemeral = await throughput(routers, member, "eledger", 64, 5);
    await gateway.stop();
    report(
      "actor node (1 node process, 1 nats-server, load from a second process)",
      [
        { figure: "durable inputs/s (64 rooms, closed loop)", value: durable, budget: "-" },
        { figure: "ephemeral inputs/s (64 rooms, closed loop)", value: ephemeral, budget: "-" },
        { figure: "cold activation p50 ms", value: activation.p50, budget: "< 5" },
        { figure: "cold activation p99 ms", value: activation.p99, budget: "-" },
        { figure: "heap bytes per idle active room", value: bytesPerRoom, budget: "< 4096" },
      ],
      {
        durableInputsPerSec: durable,
        ephemeralInputsPerSec: ephemeral,
        activationP50Ms: activation.p50,
        activationP99Ms: activation.p99,
        bytesPerIdleRoom: bytesPerRoom,
      },
    );
  } finally {
    await child.kill("SIGKILL");
    for (const nc of connections) await nc.close();
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runNode();
