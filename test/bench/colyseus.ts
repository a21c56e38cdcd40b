/**
 * Side by side with Colyseus (issue 11, DESIGN.md "Budgets"): the same
 * party-queue logic on one Colyseus process and on Rookery, measured in the
 * same run, one after the other:
 * - round trip of one client alternating `add` and `remove` until its reply,
 *   on Colyseus; on Rookery co-located (one process that is gateway and node,
 *   the client connected to the room's process, so the input never leaves
 *   it), durable `party` and ephemeral `eparty`; and on today's split shape
 *   (a gateway process and a node process) for reference;
 * - raw JetStream publish-with-ack (fenced like a journal append: message id
 *   and expected last subject sequence, same stream settings, same entry
 *   size) on the same nats-server: the floor of a durable input;
 * - memory per joined client: 5,000 clients in 50 rooms of 100; what the
 *   server processes retain after a full GC (V8 heap + external buffers),
 *   read through memory-probe.cjs (Rookery co-located: its one process;
 *   split: gateway + node).
 * Last line: one JSON object with the issue-11 ratios.
 */
import { Client as ColyseusClient, type Room as ColyseusRoom } from "colyseus.js";
import type { WebSocket } from "ws";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { clusterNames } from "@rookery/cluster";
import { ClientKind, decodeServerFrame, encodeFrame, ServerKind } from "@rookery/protocol";
import { spawnChild, startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { requestPaths, startServerProcess } from "../../services/server/test/servers";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { discover, joinedClient, left, type RoomRef } from "./rookery-client";
import { latencies, report, round } from "./report";

/** BENCH_CLIENTS=100 makes a quick run (memory per client is then dominated by fixed costs). */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 5000);
const ROOMS = 50;
const ROUNDS = 2000;
const WARMUP = 200;

const PROBE = {
  NODE_OPTIONS: `--expose-gc --require ${new URL("./memory-probe.cjs", import.meta.url).pathname}`,
};
/** Node-side settings of every Rookery process here: bench rooms, no idle deactivation. */
const ROOKERY_ENV = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS, ...UNLIMITED_RATE, ...PROBE };

interface Latency {
  p50: number;
  p99: number;
}

/** Retained memory of a probed child after a full GC: V8 heap plus external buffers (sockets). */
async function retained(child: ChildHandle): Promise<number> {
  const seen = child.lines.length;
  process.kill(child.pid, "SIGWINCH");
  const line = await until(
    () => child.lines.slice(seen).find((l) => l.includes('"event":"memory"')),
    10_000,
    "memory line",
  );
  const m = JSON.parse(line) as { heapUsed: number; external: number };
  return m.heapUsed + m.external;
}

async function colyseus() {
  const server = await spawnChild({
    script: new URL("./colyseus-server.ts", import.meta.url).pathname,
    env: PROBE,
  });
  try {
    const { port } = JSON.parse(await server.waitForLine(/"event":"ready"/, 20_000)) as {
      port: number;
    };
    const url = `ws://127.0.0.1:${port}`;
    const before = await retained(server);
    const rooms: ColyseusRoom[] = [];
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: 100 }, () =>
        new ColyseusClient(url).joinOrCreate("party"),
      );
      rooms.push(...(await Promise.all(batch)));
    }
    const perClient = ((await retained(server)) - before) / rooms.length;
    for (const room of rooms) await room.leave().catch(() => undefined);
    const solo = await new ColyseusClient(url).create("party");
    let resolve: ((body: { id: string }) => void) | undefined;
    solo.onMessage("ack", (body: { id: string }) => resolve?.(body));
    solo.onMessage("queue", () => undefined);
    const times: number[] = [];
    let id = "";
    for (let i = 0; i < ROUNDS + WARMUP; i++) {
      const started = performance.now();
      const reply = new Promise<{ id: string }>((r) => (resolve = r));
      solo.send(i % 2 === 0 ? "add" : "remove", i % 2 === 0 ? { title: "song" } : { id });
      id = (await reply).id;
      if (i >= WARMUP) times.push(performance.now() - started);
    }
    await solo.leave();
    return { perClient, ...latencies(times, 3) };
  } finally {
    await server.kill("SIGKILL");
  }
}

/**
 * Bytes retained per joined client: CLIENTS raw protocol clients joined to
 * ROOMS durable party rooms through `url`, charged to `children` (the
 * processes that serve them), each read after a full GC.
 */
async function memoryPerClient(url: string, children: ChildHandle[], tag: string) {
  const before = await Promise.all(children.map(retained));
  const sockets: WebSocket[] = [];
  const roomOf = (i: number): RoomRef => ({ type: "party", id: `${tag}${i % ROOMS}` });
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Array.from({ length: 100 }, (_, j) =>
      joinedClient(url, `u${i + j}`, roomOf(i + j)),
    );
    sockets.push(...(await Promise.all(batch)));
  }
  const after = await Promise.all(children.map(retained));
  const parts = after.map((a, i) => (a - before[i]!) / sockets.length);
  // Leaving at once, as the Colyseus clients do (a dropped socket would leave 5 s later, mid-measurement).
  for (let i = 0; i < sockets.length; i += 100) {
    await Promise.all(sockets.slice(i, i + 100).map((ws, j) => left(ws, roomOf(i + j))));
  }
  for (const ws of sockets) ws.terminate();
  return { perClient: parts.reduce((a, b) => a + b, 0), parts };
}

/** One client alternating `add` and `remove` in `room`, each until its ack. */
async function roundTrip(url: string, room: RoomRef): Promise<Latency> {
  const solo = await joinedClient(url, `solo-${room.type}-${room.id}`, room);
  const times: number[] = [];
  let id = "";
  for (let i = 0; i < ROUNDS + WARMUP; i++) {
    const started = performance.now();
    const seq = i + 1;
    const reply = new Promise<string>((resolve) => {
      const onMessage = (data: Buffer) => {
        const f = decodeServerFrame(data);
        if (!f.ok || f.frame.k !== ServerKind.Ack || f.frame.seq !== seq) return;
        solo.off("message", onMessage);
        // A resent input (its first reply was late) is acknowledged `dup`, without a result.
        resolve((f.frame.result as { id?: string } | undefined)?.id ?? "");
      };
      solo.on("message", onMessage);
    });
    const adding = id === "";
    const [kind, body] = adding ? ["add", { title: "song" }] : ["remove", { id }];
    solo.send(encodeFrame({ k: ClientKind.Input, room, seq, type: kind, body }));
    const result = await reply;
    id = adding ? result : "";
    if (i >= WARMUP) times.push(performance.now() - started);
  }
  solo.terminate();
  return latencies(times, 3);
}

/**
 * Sequential JetStream publishes with ack, each fenced as a journal append
 * is (message id, expected last subject sequence), to a stream made as the
 * journal stream is (file storage, one replica, direct gets), `bytes` each.
 */
async function jetStreamFloor(natsUrl: string, bytes: number): Promise<Latency> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "bench_floor", subjects: ["bench_floor.>"], allow_direct: true });
    const js = jetstream(nc);
    const payload = new Uint8Array(bytes).fill(7);
    const times: number[] = [];
    let last = 0;
    for (let i = 0; i < ROUNDS + WARMUP; i++) {
      const started = performance.now();
      const ack = await js.publish("bench_floor.journal.party.solo", payload, {
        msgID: `floor:${last}`,
        expect: { lastSubjectSequence: last },
      });
      last = ack.seq;
      if (i >= WARMUP) times.push(performance.now() - started);
    }
    return latencies(times, 3);
  } finally {
    await nc.close();
  }
}

/** Average bytes of a journal entry in a Rookery prefix's journal stream. */
async function journalEntryBytes(natsUrl: string, prefix: string): Promise<number> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(clusterNames(prefix).journalStream);
    return Math.round(info.state.bytes / Math.max(1, info.state.messages));
  } finally {
    await nc.close();
  }
}

async function rookery() {
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  try {
    // Co-located: one process, gateway and node; its rooms are placed on it.
    const co = await startServerProcess(nats.url, "bench_co", "co-1", ROOKERY_ENV);
    children.push(co.child);
    const coHttp = `http://127.0.0.1:${co.port}`;
    const coMemory = await memoryPerClient(co.url, [co.child], "c");
    const pathsBefore = await requestPaths(co.port);
    const durable = await roundTrip(co.url, { type: "party", id: "solo-d" });
    const ephemeral = await roundTrip(co.url, { type: "eparty", id: "solo-e" });
    const pathsAfter = await requestPaths(co.port);
    const owner = await discover(coHttp, { type: "party", id: "solo-d" });
    if (owner !== co.url) throw new Error(`/discover names ${owner}, not the room's process`);
    const entryBytes = await journalEntryBytes(nats.url, "bench_co");
    const floor = await jetStreamFloor(nats.url, entryBytes);

    // Split shape, for reference: a node process and a gateway process.
    const node = await startNode(nats.url, "bench_split", "split-node", ROOKERY_ENV);
    children.push(node);
    const gw = await startGatewayProcess(nats.url, "bench_split", "split-gw", {
      ...UNLIMITED_RATE,
      ...PROBE,
    });
    children.push(gw.child);
    const splitMemory = await memoryPerClient(gw.url, [gw.child, node], "s");
    const splitDurable = await roundTrip(gw.url, { type: "party", id: "solo-d" });
    const splitEphemeral = await roundTrip(gw.url, { type: "eparty", id: "solo-e" });
    return {
      co: {
        memory: coMemory,
        durable,
        ephemeral,
        local: pathsAfter.local - pathsBefore.local,
        nats: pathsAfter.nats - pathsBefore.nats,
      },
      split: { memory: splitMemory, durable: splitDurable, ephemeral: splitEphemeral },
      floor,
      entryBytes,
    };
  } finally {
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
  }
}

export async function runColyseus(): Promise<void> {
  const c = await colyseus();
  const r = await rookery();
  const durableFloor = c.p50 + 1.2 * r.floor.p50;
  const row = (
    system: string,
    x: Latency,
    memory?: { perClient: number; parts: number[] },
    partNames: string[] = [],
  ) => ({
    system,
    rtt_p50_ms: x.p50,
    rtt_p99_ms: x.p99,
    p50_vs_colyseus: round(x.p50 / c.p50, 2),
    p99_vs_colyseus: round(x.p99 / c.p99, 2),
    bytes_per_client: memory ? Math.round(memory.perClient) : "",
    of_which:
      memory && partNames.length > 1
        ? partNames.map((n, i) => `${n} ${Math.round(memory.parts[i]!)}`).join(", ")
        : "",
  });
  const colyseusMemory = { perClient: c.perClient, parts: [c.perClient] };
  report(
    `round trip and memory side by side with Colyseus (${CLIENTS} clients in ${ROOMS} rooms; add/remove round trip, ${ROUNDS} rounds)`,
    [
      row("colyseus 0.16, 1 process", c, colyseusMemory),
      row("rookery co-located, ephemeral eparty", r.co.ephemeral),
      row("rookery co-located, durable party", r.co.durable, r.co.memory),
      row("rookery split (gateway + node), ephemeral", r.split.ephemeral),
      row("rookery split (gateway + node), durable", r.split.durable, r.split.memory, [
        "gateway",
        "node",
      ]),
      {
        ...row(`raw JetStream publish-ack (${r.entryBytes} B, fenced)`, r.floor),
        p50_vs_colyseus: "",
        p99_vs_colyseus: "",
      },
      {
        ...row("durable floor: colyseus p50 + 1.2 x publish-ack p50", {
          p50: round(durableFloor, 3),
          p99: NaN,
        }),
        rtt_p99_ms: "",
        p50_vs_colyseus: "",
        p99_vs_colyseus: "",
      },
    ],
    {
      coLocatedRequests: { local: r.co.local, nats: r.co.nats },
      jetStreamPublishAck: r.floor,
      splitShape: {
        ephemeralP50Ratio: round(r.split.ephemeral.p50 / c.p50, 2),
        durableP50OverFloor: round(r.split.durable.p50 / durableFloor, 2),
        memoryRatio: round(r.split.memory.perClient / c.perClient, 2),
      },
    },
  );
  // The issue-11 targets (Rookery co-located / Colyseus 1 process): the last line.
  console.log(
    JSON.stringify({
      ephemeralP50Ratio: round(r.co.ephemeral.p50 / c.p50, 2),
      ephemeralP99Ratio: round(r.co.ephemeral.p99 / c.p99, 2),
      durableP50OverFloor: round(r.co.durable.p50 / durableFloor, 2),
      memoryRatio: round(r.co.memory.perClient / c.perClient, 2),
    }),
  );
}
