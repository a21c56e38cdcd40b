/**
 * The same load on Colyseus and on Rookery (DESIGN.md: "side by side with
 * Colyseus on the same room logic and the same load"): CLIENTS clients over
 * ROOMS party rooms, each sending at a fixed rate (open loop, alternating
 * `add` and `remove`, so every input also broadcasts the queue to its room),
 * stepped up until a system no longer keeps up. Rookery's side is the
 * `rookery load` generator (`runLoad`); Colyseus's is the same loop with its
 * own SDK. Both servers run on this machine: Colyseus as one process; Rookery
 * as one nats-server, one node and one gateway, with the durable `party`
 * room (every input journaled before its ack) and its ephemeral twin.
 */
import { Client as ColyseusClient, type Room as ColyseusRoom } from "colyseus.js";
import { runLoad, type LoadReport } from "@rookery/cli";
import { spawnChild, startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { SECRET, startGatewayProcess } from "../../services/gateway/test/harness";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { latencies, report, round } from "./report";

const CLIENTS = 100;
const ROOMS = 10;
const SECONDS = 5;
/** Inputs per second per client, one step each. */
const RATES = [5, 10, 20, 40];

interface Step {
  offered: number;
  ackedPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One Colyseus client at `rate`: acks come back in send order, so a FIFO pairs them. */
async function driveColyseus(room: ColyseusRoom, rate: number, endAt: number, out: number[]) {
  const sentAt: { at: number; add: boolean }[] = [];
  let added = "";
  room.onMessage("ack", (body: { id: string }) => {
    const sent = sentAt.shift()!;
    out.push(performance.now() - sent.at);
    added = sent.add ? body.id : "";
  });
  room.onMessage("queue", () => undefined);
  const interval = 1000 / rate;
  let next = performance.now() + Math.random() * interval;
  while (next < endAt) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    next += interval;
    sentAt.push({ at: performance.now(), add: added === "" });
    if (added === "") room.send("add", { title: "load" });
    else room.send("remove", { id: added });
  }
  // The last acks may still be on their way; those that never come count as lost.
  await until(() => sentAt.length === 0, 2000, "last acks").catch(() => undefined);
  return sentAt.length;
}

async function colyseusStep(url: string, rate: number): Promise<Step> {
  const rooms: ColyseusRoom[] = [];
  const ids = Array.from({ length: ROOMS }, () => "");
  for (let i = 0; i < CLIENTS; i++) {
    const r = i % ROOMS;
    const client = new ColyseusClient(url);
    const room = ids[r] === "" ? await client.create("party") : await client.joinById(ids[r]!, {});
    ids[r] = room.roomId;
    rooms.push(room);
  }
  const times: number[] = [];
  const started = performance.now();
  const endAt = started + SECONDS * 1000;
  const lost = await Promise.all(rooms.map((room) => driveColyseus(room, rate, endAt, times)));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(rooms.map((room) => room.leave().catch(() => undefined)));
  return {
    offered: CLIENTS * rate,
    ackedPerSec: round(times.length / seconds, 0),
    ...latencies(times, 2),
    errors: lost.reduce((a, b) => a + b, 0),
  };
}

function fromLoad(rate: number, r: LoadReport): Step {
  return {
    offered: CLIENTS * rate,
    ackedPerSec: round(r.ackedPerSec, 0),
    p50: r.latencyMs.p50,
    p99: r.latencyMs.p99,
    errors: r.sent - r.acked,
  };
}

async function colyseus(): Promise<Step[]> {
  const server = await spawnChild({
    script: new URL("./colyseus-server.ts", import.meta.url).pathname,
  });
  try {
    const { port } = JSON.parse(await server.waitForLine(/"event":"ready"/, 20_000)) as {
      port: number;
    };
    const steps: Step[] = [];
    for (const rate of RATES) steps.push(await colyseusStep(`ws://127.0.0.1:${port}`, rate));
    return steps;
  } finally {
    await server.kill("SIGKILL");
  }
}

async function rookery(type: string): Promise<Step[]> {
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  try {
    const env = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS };
    children.push(await startNode(nats.url, "bench_load", "load-node", env));
    const limits = UNLIMITED_RATE;
    const gw = await startGatewayProcess(nats.url, "bench_load", "load-gw", limits);
    children.push(gw.child);
    const steps: Step[] = [];
    for (const rate of RATES) {
      const load = await runLoad({
        url: gw.url,
        secret: SECRET,
        clients: CLIENTS,
        rooms: ROOMS,
        rate,
        duration: SECONDS,
        type,
        queue: true,
        roomPrefix: `step-${rate}`,
      });
      steps.push(fromLoad(rate, load));
    }
    return steps;
  } finally {
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
  }
}

export async function runLoadBench(): Promise<void> {
  const c = await colyseus();
  const r = await rookery("party");
  const e = await rookery("eparty");
  const rows = RATES.flatMap((_, i) => [
    { system: "colyseus 0.16 (1 process)", ...c[i]! },
    { system: "rookery (gateway + node, durable)", ...r[i]! },
    { system: "rookery (gateway + node, ephemeral)", ...e[i]! },
  ]);
  report(
    `same load on both (${CLIENTS} clients in ${ROOMS} rooms, ${SECONDS} s per step, add/remove)`,
    rows,
    {
      steps: RATES.map((rate, i) => ({
        offered: CLIENTS * rate,
        throughputRatio: round(r[i]!.ackedPerSec / c[i]!.ackedPerSec, 2),
        p50Ratio: round(r[i]!.p50 / c[i]!.p50, 2),
        p99Ratio: round(r[i]!.p99 / c[i]!.p99, 2),
        ephemeralThroughputRatio: round(e[i]!.ackedPerSec / c[i]!.ackedPerSec, 2),
        ephemeralP99Ratio: round(e[i]!.p99 / c[i]!.p99, 2),
      })),
    },
  );
}
