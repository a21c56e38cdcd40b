/**
 * Side by side with Colyseus (DESIGN.md budgets): the same party-queue logic
 * on one Colyseus process and on Rookery (one gateway, one node, one
 * nats-server), measured in the same run:
 * - memory per connected client: 5,000 clients joined to 50 rooms of 100;
 *   what the server processes retain after a full GC (V8 heap + external
 *   buffers; Rookery: gateway + node), read through memory-probe.cjs;
 * - round trip of one client alternating `add` and `remove` until its reply.
 */
import { Client as ColyseusClient, type Room as ColyseusRoom } from "colyseus.js";
import type { WebSocket } from "ws";
import { ClientKind, decodeServerFrame, encodeFrame, ServerKind } from "@rookery/protocol";
import { spawnChild, startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { hello } from "./gateway";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { latencies, report, round } from "./report";

/** BENCH_CLIENTS=100 makes a quick run (memory per client is then dominated by fixed costs). */
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 5000);
const ROOMS = 50;
const ROUNDS = 2000;

const PROBE = {
  NODE_OPTIONS: `--expose-gc --require ${new URL("./memory-probe.cjs", import.meta.url).pathname}`,
};

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
    for (let i = 0; i < ROUNDS + 200; i++) {
      const started = performance.now();
      const reply = new Promise<{ id: string }>((r) => (resolve = r));
      solo.send(i % 2 === 0 ? "add" : "remove", i % 2 === 0 ? { title: "song" } : { id });
      id = (await reply).id;
      if (i >= 200) times.push(performance.now() - started);
    }
    await solo.leave();
    return { perClient, ...latencies(times, 3) };
  } finally {
    await server.kill("SIGKILL");
  }
}

/** Rookery clients are raw protocol sockets (as light as the Colyseus client allows). */
async function joinedClient(
  url: string,
  user: string,
  room: string,
  type = "party",
): Promise<WebSocket> {
  const ws = await hello(url, user);
  await new Promise<void>((resolve, reject) => {
    ws.once("message", (data: Buffer) => {
      const f = decodeServerFrame(data);
      if (f.ok && f.frame.k === ServerKind.Joined) resolve();
      else reject(new Error(`${user} could not join`));
    });
    ws.send(encodeFrame({ k: ClientKind.Join, ref: 1, room: { type, id: room } }));
  });
  return ws;
}

function left(ws: WebSocket, room: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (data: Buffer) => {
      const f = decodeServerFrame(data);
      if (!f.ok || f.frame.k !== ServerKind.Left) return;
      ws.off("message", onMessage);
      resolve();
    };
    ws.on("message", onMessage);
    ws.send(encodeFrame({ k: ClientKind.Leave, ref: 2, room: { type: "party", id: room } }));
  });
}

/** One client alternating `add` and `remove` in a room of `type`, each until its ack. */
async function roundTrip(url: string, type: string) {
  const solo = await joinedClient(url, `solo-${type}`, `solo-${type}`, type);
  const times: number[] = [];
  let id = "";
  for (let i = 0; i < ROUNDS + 200; i++) {
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
    const room = { type, id: `solo-${type}` };
    solo.send(encodeFrame({ k: ClientKind.Input, room, seq, type: kind, body }));
    const result = await reply;
    id = adding ? result : "";
    if (i >= 200) times.push(performance.now() - started);
  }
  solo.terminate();
  return latencies(times, 3);
}

async function rookery() {
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  try {
    const node = await startNode(nats.url, "bench_cy", "cy-node", {
      ROOKERY_IDLE_MS: "0",
      ...BENCH_ROOMS,
      ...PROBE,
    });
    children.push(node);
    const limits = { ...UNLIMITED_RATE, ...PROBE };
    const gw = await startGatewayProcess(nats.url, "bench_cy", "cy-gw", limits);
    children.push(gw.child);
    const gwBefore = await retained(gw.child);
    const nodeBefore = await retained(node);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: 100 }, (_, j) =>
        joinedClient(gw.url, `u${i + j}`, `c${(i + j) % ROOMS}`),
      );
      sockets.push(...(await Promise.all(batch)));
    }
    const gateway = ((await retained(gw.child)) - gwBefore) / sockets.length;
    const nodePart = ((await retained(node)) - nodeBefore) / sockets.length;
    const perClient = gateway + nodePart;
    // Leaving at once, as the Colyseus clients do (a dropped socket would leave 5 s later, mid-measurement).
    for (let i = 0; i < sockets.length; i += 100) {
      await Promise.all(sockets.slice(i, i + 100).map((ws, j) => left(ws, `c${(i + j) % ROOMS}`)));
    }
    for (const ws of sockets) ws.terminate();

    const durable = await roundTrip(gw.url, "party");
    const ephemeral = await roundTrip(gw.url, "eparty");
    return { perClient, gateway, node: nodePart, ...durable, ephemeral };
  } finally {
    for (const child of children) await child.kill("SIGKILL");
    await nats.stop();
  }
}

export async function runColyseus(): Promise<void> {
  const c = await colyseus();
  const r = await rookery();
  const row = (
    system: string,
    x: { perClient: number; gateway?: number; node?: number; p50: number; p99: number },
  ) => ({
    system,
    bytes_per_client: Math.round(x.perClient),
    of_which:
      x.gateway === undefined
        ? ""
        : `gateway ${Math.round(x.gateway)}, node ${Math.round(x.node!)}`,
    rtt_p50_ms: x.p50,
    rtt_p99_ms: x.p99,
  });
  report(
    `side by side with Colyseus (${CLIENTS} clients in ${ROOMS} rooms; add/remove round trip)`,
    [
      row("colyseus 0.16 (1 process)", c),
      row("rookery (gateway + node), durable party", r),
      {
        ...row("rookery, ephemeral party (no journal)", { ...r, ...r.ephemeral }),
        bytes_per_client: "",
        of_which: "",
      },
    ],
    {
      ephemeralP50Ratio: round(r.ephemeral.p50 / c.p50, 2),
      ephemeralP99Ratio: round(r.ephemeral.p99 / c.p99, 2),
      memoryRatio: round(r.perClient / c.perClient, 2),
      p50Ratio: round(r.p50 / c.p50, 2),
      p99Ratio: round(r.p99 / c.p99, 2),
    },
  );
}
