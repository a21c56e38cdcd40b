/**
 * Actor node figures (issue: actor runtime): inputs/s through one node for
 * durable and ephemeral rooms, cold activation latency p50/p99, and memory per
 * idle active room, with one real node process and one nats-server.
 * Budgets (DESIGN.md): activation p50 < 5 ms; < 4 KB per idle active room.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ActorHost } from "@rookery/actors";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { InternalKind, type MemberInfo } from "@rookery/protocol/internal";
import { startNatsServer, type NatsServer } from "@rookery/testkit";
import { ephemeralLedgerRoom } from "../../packages/actors/test/fixtures/rooms";
import { startNode } from "../../services/node/test/nodes";
import { latencies, report, round } from "./report";

const PREFIX = "bench_node";

async function activationLatency(router: RoomRouter, count: number) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await router.place("ledger", `cold-${i}`);
    times.push(performance.now() - started);
  }
  return latencies(times, 2);
}

/**
 * Retained heap per idle active room, measured in this process (an in-process
 * host) with forced GCs around the activations: run with `node --expose-gc`
 * (`npm run bench` does) or the figure includes garbage.
 */
async function memoryPerRoom(server: NatsServer, count: number) {
  const gc = (globalThis as { gc?: () => void }).gc;
  const nc = await connect({ servers: server.url });
  const member = new ClusterMember(nc, {
    identity: { id: "mem-node", role: "node" },
    cluster: { prefix: "bench_mem" },
  });
  await member.start();
  const host = new ActorHost(member, [ephemeralLedgerRoom] as never, { idleMs: 0 });
  await host.start();
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const before = await settle();
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) =>
        host.activate("eledger", `idle-${i + j}`),
      ),
    );
  }
  const after = await settle();
  if (host.size !== count) throw new Error(`only ${host.size} of ${count} rooms active`);
  await host.stop();
  await member.stop();
  await nc.close();
  return { bytes: round((after - before) / count, 0), exact: gc !== undefined };
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
  const child = await startNode(server.url, PREFIX, "bench-node", { ROOKERY_IDLE_MS: "0" });
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
    const memory = await memoryPerRoom(server, 5000);
    const bytesPerRoom = memory.bytes;
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
        {
          figure: `heap bytes per idle active room${memory.exact ? "" : " (no --expose-gc: upper bound)"}`,
          value: bytesPerRoom,
          budget: "< 4096",
        },
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
