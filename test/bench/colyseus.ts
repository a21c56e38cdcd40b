/**
 * Side by side with Colyseus (issue 11, DESIGN.md "Budgets"): the same
 * party-queue logic on one Colyseus process and on Rookery, in the same run:
 * - round trip of one client alternating `add` and `remove` until its reply,
 *   on Colyseus; on Rookery co-located (one process that is gateway and node,
 *   the client connected to the room's process, so the input never leaves
 *   it), durable `party` and ephemeral `eparty`; and on today's split shape
 *   (a gateway process and a node process) for reference;
 * - raw JetStream publish-with-ack (fenced as a journal append is: message id
 *   and expected last subject sequence, same stream settings, entries of the
 *   size the durable room journals) on the same nats-server: the floor of a
 *   durable input;
 * - memory per joined client: 5,000 clients in 50 rooms of 100; what the
 *   server processes retain after a full GC (V8 heap + external buffers),
 *   read through memory-probe.cjs (Rookery co-located: its one process;
 *   split: gateway + node).
 * Every server runs at once and the round trips are taken in BLOCKS
 * interleaved blocks per system, so a busy spell on this shared machine
 * falls on all of them alike. Last line: one JSON object with the ratios.
 */
import { loadavg } from "node:os";
import { Client as ColyseusClient, type Room as ColyseusRoom } from "colyseus.js";
import type { WebSocket } from "ws";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { clusterNames } from "@rookery/cluster";
import { ClientKind, decodeServerFrame, encodeFrame, ServerKind } from "@rookery/protocol";
import { spawnChild, startNatsServer, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { requestPaths, startServerProcess } from "../../services/server/test/servers";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { discover, joinedClient, left, type RoomRef } from "./rookery-client";
import { latencies, report, round } from "./report";
import { retained } from "./retained-memory";

/** BENCH_CLIENTS=100 makes a quick run (memory per client is then dominated by fixed costs). */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 5000);
const ROOMS = 50;
const ROUNDS = 2000;
const BLOCKS = 4;
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

interface Memory {
  perClient: number;
  parts: number[];
}

/** One sequential requester: `round()` is one request until its reply. */
interface Pinger {
  round(): Promise<void>;
  close(): Promise<void>;
}

/** Progress on stderr, so a slow phase shows where it is. */
const phase = (what: string) =>
  console.error(`[colyseus bench ${new Date().toISOString()}] ${what}`);

async function colyseusMemory(server: ChildHandle, url: string): Promise<Memory> {
  const before = await retained(server);
  const rooms: ColyseusRoom[] = [];
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Array.from({ length: 100 }, () => new ColyseusClient(url).joinOrCreate("party"));
    rooms.push(...(await Promise.all(batch)));
  }
  const perClient = ((await retained(server)) - before) / rooms.length;
  for (const room of rooms) await room.leave().catch(() => undefined);
  return { perClient, parts: [perClient] };
}

async function colyseusPinger(url: string): Promise<Pinger> {
  const solo = await new ColyseusClient(url).create("party");
  let resolve: ((body: { id: string }) => void) | undefined;
  solo.onMessage("ack", (body: { id: string }) => resolve?.(body));
  solo.onMessage("queue", () => undefined);
  let id = "";
  return {
    round: async () => {
      const reply = new Promise<{ id: string }>((r) => (resolve = r));
      if (id === "") solo.send("add", { title: "song" });
      else solo.send("remove", { id });
      const acked = (await reply).id;
      id = id === "" ? acked : "";
    },
    close: async () => void (await solo.leave()),
  };
}

/**
 * Bytes retained per joined client: CLIENTS raw protocol clients joined to
 * ROOMS durable party rooms through `url`, charged to `children` (the
 * processes that serve them), each read after a full GC.
 */
async function rookeryMemory(url: string, children: ChildHandle[], tag: string): Promise<Memory> {
  const before = await Promise.all(children.map(retained));
  const sockets: WebSocket[] = [];
  const roomOf = (i: number): RoomRef => ({ type: "party", id: `${tag}${i % ROOMS}` });
  for (let i = 0; i < CLIENTS; i += 100) {
    const batch = Array.from({ length: 100 }, (_, j) =>
      joinedClient(url, `u${i + j}`, roomOf(i + j)),
    );
    sockets.push(...(await Promise.all(batch)));
    if ((i + 100) % 1000 === 0) phase(`${i + 100} joined`);
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

/** One raw protocol client alternating `add` and `remove` in `room`, each until its ack. */
async function rookeryPinger(url: string, room: RoomRef): Promise<Pinger> {
  const solo = await joinedClient(url, `solo-${room.type}-${room.id}`, room);
  let seq = 0;
  let id = "";
  return {
    round: async () => {
      const mine = ++seq;
      const reply = new Promise<string>((resolve) => {
        const onMessage = (data: Buffer) => {
          const f = decodeServerFrame(data);
          if (!f.ok || f.frame.k !== ServerKind.Ack || f.frame.seq !== mine) return;
          solo.off("message", onMessage);
          // A resent input (its first reply was late) is acknowledged `dup`, without a result.
          resolve((f.frame.result as { id?: string } | undefined)?.id ?? "");
        };
        solo.on("message", onMessage);
      });
      const adding = id === "";
      const [type, body] = adding ? ["add", { title: "song" }] : ["remove", { id }];
      solo.send(encodeFrame({ k: ClientKind.Input, room, seq: mine, type, body }));
      const result = await reply;
      id = adding ? result : "";
    },
    close: async () => void solo.terminate(),
  };
}

/**
 * Sequential JetStream publishes with ack, each fenced as a journal append
 * is (message id, expected last subject sequence), to a stream made as the
 * journal stream is (file storage, one replica, direct gets), `bytes` each.
 */
async function jetStreamPinger(natsUrl: string, bytes: number): Promise<Pinger> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "bench_floor", subjects: ["bench_floor.>"], allow_direct: true });
  const js = jetstream(nc);
  const payload = new Uint8Array(bytes).fill(7);
  let last = 0;
  return {
    round: async () => {
      const ack = await js.publish("bench_floor.journal.party.solo", payload, {
        msgID: `floor:${last}`,
        expect: { lastSubjectSequence: last },
      });
      last = ack.seq;
    },
    close: () => nc.close(),
  };
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

/** WARMUP rounds each, then ROUNDS in BLOCKS blocks, the systems taking turns. */
async function interleaved(pingers: Record<string, Pinger>): Promise<Record<string, Latency>> {
  const times: Record<string, number[]> = {};
  for (const [name, p] of Object.entries(pingers)) {
    times[name] = [];
    for (let i = 0; i < WARMUP; i++) await p.round();
  }
  for (let b = 0; b < BLOCKS; b++) {
    for (const [name, p] of Object.entries(pingers)) {
      for (let i = 0; i < ROUNDS / BLOCKS; i++) {
        const started = performance.now();
        await p.round();
        times[name]!.push(performance.now() - started);
      }
    }
  }
  return Object.fromEntries(Object.entries(times).map(([name, t]) => [name, latencies(t, 3)]));
}

export async function runColyseus(): Promise<void> {
  const loadBefore = round(loadavg()[0]!, 1);
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  const pingers: Record<string, Pinger> = {};
  try {
    const cy = await spawnChild({
      script: new URL("./colyseus-server.ts", import.meta.url).pathname,
      env: PROBE,
    });
    children.push(cy);
    const { port } = JSON.parse(await cy.waitForLine(/"event":"ready"/, 20_000)) as {
      port: number;
    };
    const cyUrl = `ws://127.0.0.1:${port}`;
    phase(`colyseus: joining ${CLIENTS} clients`);
    const cyMemory = await colyseusMemory(cy, cyUrl);
    phase(`rookery co-located: joining ${CLIENTS} clients`);

    // Co-located: one process, gateway and node; its rooms are placed on it.
    const co = await startServerProcess(nats.url, "bench_co", "co-1", ROOKERY_ENV);
    children.push(co.child);
    const coMemory = await rookeryMemory(co.url, [co.child], "c");
    // Split shape, for reference: a node process and a gateway process.
    const node = await startNode(nats.url, "bench_split", "split-node", ROOKERY_ENV);
    children.push(node);
    const gw = await startGatewayProcess(nats.url, "bench_split", "split-gw", {
      ...UNLIMITED_RATE,
      ...PROBE,
    });
    children.push(gw.child);
    phase(`rookery split: joining ${CLIENTS} clients`);
    const splitMemory = await rookeryMemory(gw.url, [gw.child, node], "s");
    phase("round trips");

    pingers.colyseus = await colyseusPinger(cyUrl);
    pingers.coEphemeral = await rookeryPinger(co.url, { type: "eparty", id: "solo-e" });
    pingers.coDurable = await rookeryPinger(co.url, { type: "party", id: "solo-d" });
    pingers.splitEphemeral = await rookeryPinger(gw.url, { type: "eparty", id: "solo-e" });
    pingers.splitDurable = await rookeryPinger(gw.url, { type: "party", id: "solo-d" });
    // The floor's entries are as large as the durable room's journal entries.
    for (let i = 0; i < 20; i++) await pingers.coDurable.round();
    const entryBytes = await journalEntryBytes(nats.url, "bench_co");
    pingers.jetStream = await jetStreamPinger(nats.url, entryBytes);

    const pathsBefore = await requestPaths(co.port);
    const rtt = await interleaved(pingers);
    const pathsAfter = await requestPaths(co.port);
    const owner = await discover(`http://127.0.0.1:${co.port}`, { type: "party", id: "solo-d" });
    if (owner !== co.url) throw new Error(`/discover names ${owner}, not the room's process`);
    printReport({
      rtt,
      cyMemory,
      coMemory,
      splitMemory,
      entryBytes,
      coRequests: {
        local: pathsAfter.local - pathsBefore.local,
        nats: pathsAfter.nats - pathsBefore.nats,
      },
      load: { before: loadBefore, after: round(loadavg()[0]!, 1) },
    });
  } finally {
    for (const p of Object.values(pingers)) await p.close().catch(() => undefined);
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
  }
}

function printReport(r: {
  rtt: Record<string, Latency>;
  cyMemory: Memory;
  coMemory: Memory;
  splitMemory: Memory;
  entryBytes: number;
  coRequests: { local: number; nats: number };
  load: { before: number; after: number };
}) {
  const c = r.rtt.colyseus!;
  const floor = r.rtt.jetStream!;
  const durableFloor = c.p50 + 1.2 * floor.p50;
  const row = (system: string, x: Latency, memory?: Memory, partNames: string[] = []) => ({
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
  report(
    `round trip and memory side by side with Colyseus (${CLIENTS} clients in ${ROOMS} rooms; add/remove round trip, ${ROUNDS} rounds in ${BLOCKS} interleaved blocks)`,
    [
      row("colyseus 0.16, 1 process", c, r.cyMemory),
      row("rookery co-located, ephemeral eparty", r.rtt.coEphemeral!),
      row("rookery co-located, durable party", r.rtt.coDurable!, r.coMemory),
      row("rookery split (gateway + node), ephemeral", r.rtt.splitEphemeral!),
      row("rookery split (gateway + node), durable", r.rtt.splitDurable!, r.splitMemory, [
        "gateway",
        "node",
      ]),
      {
        ...row(`raw JetStream publish-ack (${r.entryBytes} B, fenced)`, floor),
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
      loadAverage1m: r.load,
      coLocatedRequests: r.coRequests,
      jetStreamPublishAck: floor,
      splitShape: {
        ephemeralP50Ratio: round(r.rtt.splitEphemeral!.p50 / c.p50, 2),
        ephemeralP99Ratio: round(r.rtt.splitEphemeral!.p99 / c.p99, 2),
        durableP50OverFloor: round(r.rtt.splitDurable!.p50 / durableFloor, 2),
        memoryRatio: round(r.splitMemory.perClient / r.cyMemory.perClient, 2),
      },
    },
  );
  // The issue-11 targets (Rookery co-located / Colyseus 1 process): the last line.
  console.log(
    JSON.stringify({
      ephemeralP50Ratio: round(r.rtt.coEphemeral!.p50 / c.p50, 2),
      ephemeralP99Ratio: round(r.rtt.coEphemeral!.p99 / c.p99, 2),
      durableP50OverFloor: round(r.rtt.coDurable!.p50 / durableFloor, 2),
      memoryRatio: round(r.coMemory.perClient / r.cyMemory.perClient, 2),
    }),
  );
}
