/**
 * Gateway figures (issue: gateway service), with real processes: one
 * nats-server, one node, one gateway, and the baselines in a process of
 * their own (echo-server.ts).
 * - End-to-end round trip (client → gateway → actor → gateway → client, an
 *   input until its ack) p50/p99, beside a raw `ws` echo and a raw NATS
 *   request/reply measured in the same run, printed as ratios. Budget
 *   (DESIGN.md): p50 within 1.5x of (ws p50 + NATS p50), p99 within 2x.
 * - Connections on one gateway and memory per connection at 5,000 idle clients.
 */
import { randomBytes } from "node:crypto";
import { connect } from "@nats-io/transport-node";
import { WebSocket } from "ws";
import { ClientKind, decodeServerFrame, encodeFrame, ServerKind } from "@rookery/protocol";
import { spawnChild, startNatsServer, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { newSession, startGatewayProcess, token } from "../../services/gateway/test/harness";
import { UNLIMITED_RATE } from "./bench-rooms";
import { latencies, report, round as roundTo } from "./report";

const PREFIX = "bench_gw";
const ROUNDS = 3000;
const IDLE_CLIENTS = 5000;

const round = (n: number, digits = 3) => roundTo(n, digits);
export const stats = (times: number[]) => latencies(times, 3);

function opened(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Sequential round trips: `send(i)` then wait for the message `done` recognises. */
async function roundTrips(
  ws: WebSocket,
  count: number,
  send: (i: number) => void,
  done: (data: Buffer, i: number) => boolean,
) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      const onMessage = (data: Buffer) => {
        if (!done(data, i)) return;
        ws.off("message", onMessage);
        resolve();
      };
      ws.on("message", onMessage);
      send(i);
    });
    times.push(performance.now() - started);
  }
  return times;
}

async function wsEcho(port: number) {
  const ws = await opened(`ws://127.0.0.1:${port}`);
  const payload = encodeFrame({ k: ClientKind.Ping, t: 1 });
  await roundTrips(
    ws,
    200,
    () => ws.send(payload),
    () => true,
  );
  const times = await roundTrips(
    ws,
    ROUNDS,
    () => ws.send(payload),
    () => true,
  );
  ws.close();
  return stats(times);
}

async function natsRequest(url: string) {
  const nc = await connect({ servers: url });
  const payload = encodeFrame({ k: ClientKind.Ping, t: 1 });
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + 200; i++) {
    const started = performance.now();
    await nc.request("bench.echo", payload, { timeout: 2000 });
    if (i >= 200) times.push(performance.now() - started);
  }
  await nc.close();
  return stats(times);
}

export async function hello(url: string, user: string): Promise<WebSocket> {
  const ws = await opened(url);
  // No display name: the smallest token, as the memory figures have always used.
  const jwt = await token(user, { name: "" });
  await new Promise<void>((resolve, reject) => {
    ws.once("message", (data: Buffer) => {
      const f = decodeServerFrame(data);
      if (f.ok && f.frame.k === ServerKind.Welcome) resolve();
      else reject(new Error(`no welcome for ${user}`));
    });
    ws.send(
      encodeFrame({
        k: ClientKind.Hello,
        v: 1,
        token: jwt,
        session: newSession(),
      }),
    );
  });
  return ws;
}

async function endToEnd(url: string, roomType: string, inputType: string) {
  const ws = await hello(url, `rt-${roomType}`);
  const room = { type: roomType, id: `rt-${randomBytes(4).toString("hex")}` };
  await roundTrips(
    ws,
    1,
    () => ws.send(encodeFrame({ k: ClientKind.Join, ref: 1, room })),
    (d) => {
      const f = decodeServerFrame(d);
      return f.ok && f.frame.k === ServerKind.Joined;
    },
  );
  const isAck = (data: Buffer, i: number) => {
    const f = decodeServerFrame(data);
    return f.ok && f.frame.k === ServerKind.Ack && f.frame.seq === i + 1;
  };
  const send = (i: number) =>
    ws.send(
      encodeFrame({
        k: ClientKind.Input,
        room,
        seq: i + 1,
        type: inputType,
        body: { n: 1 },
      }),
    );
  const times = await roundTrips(ws, ROUNDS + 200, send, isAck);
  ws.close();
  return stats(times.slice(200));
}

/**
 * The ack-only round trip on a node and gateway of their own, started with
 * `env`: what the handler budget (a `vm` timeout per budgeted call) costs
 * beside no budget at all, in the same conditions. Stopped after.
 */
async function ackOnlyWith(natsUrl: string, name: string, env: Record<string, string>) {
  const prefix = `${PREFIX}_${name}`;
  const node = await startNode(natsUrl, prefix, `bench-node-${name}`, {
    ROOKERY_IDLE_MS: "0",
    ...env,
  });
  const gw = await startGatewayProcess(natsUrl, prefix, `bench-gw-${name}`, {
    ...UNLIMITED_RATE,
  });
  try {
    await endToEnd(gw.url, "ecounter", "add");
    return await endToEnd(gw.url, "ecounter", "bump");
  } finally {
    await gw.child.kill("SIGKILL");
    await node.kill("SIGKILL");
  }
}

async function gatewayMemory(gatewayPort: number): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
  return { rss: read("process_resident_memory_bytes"), heap: read("nodejs_heap_size_used_bytes") };
}

/**
 * Idle clients that completed the handshake. Memory is read from the
 * gateway's own /metrics: resident set (all costs, including buffers) and V8
 * heap used (objects only; no forced GC in the gateway, so garbage counts).
 */
async function idleClients(url: string, port: number) {
  const before = await gatewayMemory(port);
  const sockets: WebSocket[] = [];
  const started = performance.now();
  for (let i = 0; i < IDLE_CLIENTS; i += 100) {
    const batch = Array.from({ length: 100 }, (_, j) => hello(url, `idle${i + j}`));
    sockets.push(...(await Promise.all(batch)));
  }
  const connectSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const after = await gatewayMemory(port);
  for (const ws of sockets) ws.terminate();
  return {
    connected: sockets.length,
    connectSeconds: round(connectSeconds, 1),
    rssBytesPerConnection: Math.round((after.rss - before.rss) / sockets.length),
    heapBytesPerConnection: Math.round((after.heap - before.heap) / sockets.length),
  };
}

export async function runGateway(): Promise<void> {
  const server = await startNatsServer();
  const children: ChildHandle[] = [];
  try {
    children.push(await startNode(server.url, PREFIX, "bench-node", { ROOKERY_IDLE_MS: "0" }));
    const gw = await startGatewayProcess(server.url, PREFIX, "bench-gw", {
      ...UNLIMITED_RATE,
    });
    children.push(gw.child);
    const echo = await spawnChild({
      script: new URL("./echo-server.ts", import.meta.url).pathname,
      env: { NATS_URL: server.url },
    });
    children.push(echo);
    const echoPort = (
      JSON.parse(await echo.waitForLine(/"event":"ready"/, 10_000)) as { port: number }
    ).port;

    const ws = await wsEcho(echoPort);
    const nats = await natsRequest(server.url);
    await endToEnd(gw.url, "ecounter", "add"); // warms up the gateway's and the node's JIT
    const ackOnly = await endToEnd(gw.url, "ecounter", "bump");
    const ephemeral = await endToEnd(gw.url, "ecounter", "add");
    const durable = await endToEnd(gw.url, "counter", "add");
    // Each on a pair of its own, one after the other, in the same conditions.
    const budgeted = await ackOnlyWith(server.url, "budget", {});
    const unbudgeted = await ackOnlyWith(server.url, "none", { ROOKERY_HANDLER_BUDGET_MS: "0" });
    const base = { p50: ws.p50 + nats.p50, p99: ws.p99 + nats.p99 };
    const ratio = (x: { p50: number; p99: number }) => ({
      p50: round(x.p50 / base.p50, 2),
      p99: round(x.p99 / base.p99, 2),
    });
    const row = (path: string, x: { p50: number; p99: number }, ratios = ratio(x)) => ({
      path,
      p50_ms: round(x.p50),
      p99_ms: round(x.p99),
      ratio_p50: ratios.p50,
      ratio_p99: ratios.p99,
    });
    const none = { p50: "", p99: "" } as never;
    const rows = [
      row("raw ws echo", ws, none),
      row("raw NATS request/reply", nats, none),
      row("ws + NATS (baseline)", base),
      row("e2e ephemeral, ack only", ackOnly),
      row("e2e ephemeral, event + ack", ephemeral),
      row("e2e durable, event + ack", durable),
      row("ack only, own pair: handler budget (default)", budgeted),
      row("ack only, own pair: no handler budget", unbudgeted),
    ];
    report("gateway round trip", rows, {
      rounds: ROUNDS,
      budget: { p50: 1.5, p99: 2 },
      ackOnly: ratio(ackOnly),
      ephemeral: ratio(ephemeral),
      durable: ratio(durable),
      ackOnlyOwnPairBudget: ratio(budgeted),
      ackOnlyNoHandlerBudget: ratio(unbudgeted),
    });
    const idle = await idleClients(gw.url, gw.port);
    report("gateway idle connections", [idle], idle);
  } finally {
    for (const child of children) await child.kill("SIGKILL");
    await server.stop();
  }
}
