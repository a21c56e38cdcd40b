/**
 * The same load on Colyseus and on Rookery (issue 11, DESIGN.md "Budgets"):
 * CLIENTS clients over ROOMS party rooms, each sending at a fixed rate (open
 * loop, alternating `add` and `remove`, so every input also broadcasts the
 * queue to its room), stepped up until a system no longer keeps up. One load
 * generator for all, in this process: colyseus.js clients for Colyseus; raw
 * protocol sockets for Rookery (rookery-client.ts). Both recognise the room's
 * broadcasts by their first bytes and drop them undecoded, so the generator
 * (on the same 2 cores) spends its CPU on sending and on acks. Shapes, one after another:
 * - Colyseus, 1 process;
 * - Colyseus, 2 processes with RedisPresence and RedisDriver on the local
 *   Redis, clients matchmade on either process and sent to the room's
 *   process by the seat reservation (`publicAddress`), as Colyseus documents;
 * - Rookery co-located, 2 processes (each gateway and node) and one
 *   nats-server: each room's first joiner connects to one process (rooms
 *   alternate between the two), so the room is placed there; every other
 *   client asks the other process `GET /discover?room=` and connects where it
 *   answers; ephemeral `eparty`, then durable `party` on the same processes.
 * Server CPU per input: utime + stime from /proc/<pid>/stat of every server
 * process over the step (Rookery: both processes and nats-server; Colyseus:
 * its processes, plus Redis for 2 processes), divided by the acked inputs.
 * Last line: one JSON object with the issue-11 ratios.
 */
import { createServer, connect as tcpConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { Client as ColyseusClient, type Room as ColyseusRoom } from "colyseus.js";
import { spawnChild, startNatsServer, until, type ChildHandle } from "@rookery/testkit";
import { startServerProcess } from "../../services/server/test/servers";
import { BENCH_ROOMS, UNLIMITED_RATE } from "./bench-rooms";
import { CpuMeter } from "./cpu";
import { discover, joinedClient, left, QueuePlayer, type RoomRef } from "./rookery-client";
import { latencies, report, round } from "./report";

const CLIENTS = 100;
const ROOMS = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = 2;
/** Inputs per second per client, one step each (BENCH_RATES=10,20 for a quick run). */
const RATES = (process.env.BENCH_RATES ?? "10,20,30,40,50,60,80").split(",").map(Number);
/** Kept up with: at least this share of the offered inputs acked per second, none lost, p99 under P99_LIMIT_MS. */
const KEPT_UP_SHARE = 0.95;
const P99_LIMIT_MS = 250;
/** Acks still missing this long after the last send count as lost. */
const DRAIN_MS = 2000;
const REDIS = process.env.BENCH_REDIS ?? "127.0.0.1:6379";
/**
 * Which shapes to run: colyseus1, colyseus2, rookery (both room types),
 * rookeryEphemeral, rookeryDurable (BENCH_SHAPES=rookeryEphemeral to profile
 * one; the ratios need colyseus1).
 */
const SHAPES = new Set((process.env.BENCH_SHAPES ?? "colyseus1,colyseus2,rookery").split(","));
const NOT_RUN = RATES.map(() => undefined);
/** BENCH_CPU_PROF=<dir>: server processes are profiled (cpu-probe.cjs), written to <dir> at the end. */
const CPU_PROF = process.env.BENCH_CPU_PROF;
const PROFILED: Record<string, string> = CPU_PROF
  ? {
      NODE_OPTIONS: `--require ${new URL("./cpu-probe.cjs", import.meta.url).pathname}`,
      CPU_PROFILE_DIR: CPU_PROF,
    }
  : {};

interface Player {
  send(): void;
  readonly outstanding: number;
  readonly errors: number;
  readonly errorCodes?: Record<string, number>;
}

interface Step {
  offered: number;
  ackedPerSec: number;
  p50: number;
  p99: number;
  /** Inputs never acked within DRAIN_MS, plus inputs answered with an error. */
  errors: number;
  /** Error frames by code, and `unanswered` (no ack DRAIN_MS after the last send). */
  errorCodes: Record<string, number>;
  keptUp: boolean;
  /** CPU seconds of every server process over the step. */
  serverCpu: number;
  cpuUsPerInput: number;
  perProcess: Record<string, number>;
  /** CPU seconds of the load generator (this process) over the step. */
  generatorCpu: number;
  seconds: number;
  /** 1-minute load average at the end of the step (this machine is shared; 2 cores). */
  load1: number;
}

const COLYSEUS_ROOM_DATA = 13;

interface WebSocketLike {
  onmessage: (event: { data: ArrayBuffer }) => void;
}

/** A colyseus.js client of the party room: acks come back in send order, so a FIFO pairs them. */
class ColyseusPlayer implements Player {
  readonly #sent: { at: number; add: boolean }[] = [];
  /** Items added (acked) and not yet removed: removed first, as the Rookery player does. */
  readonly #added: string[] = [];
  readonly errors = 0;

  constructor(
    readonly room: ColyseusRoom,
    onAck: (ms: number) => void,
  ) {
    room.onMessage("ack", (body: { id: string }) => {
      const sent = this.#sent.shift();
      if (!sent) return;
      onAck(performance.now() - sent.at);
      if (sent.add) this.#added.push(body.id);
    });
    room.onMessage("queue", () => undefined);
    // The room's broadcasts are dropped before colyseus.js decodes them (ROOM_DATA, then the
    // fixstr "queue"), as the Rookery player skips its event frames: the generator decodes acks only.
    const ws = (room.connection as unknown as { transport: { ws: WebSocketLike } }).transport.ws;
    const dispatch = ws.onmessage;
    ws.onmessage = (event) => {
      const head = new Uint8Array(event.data, 0, Math.min(3, event.data.byteLength));
      if (head[0] === COLYSEUS_ROOM_DATA && head[1] === 0xa5 && head[2] === 0x71) return;
      dispatch(event);
    };
  }

  get outstanding(): number {
    return this.#sent.length;
  }

  send(): void {
    const id = this.#added.shift();
    this.#sent.push({ at: performance.now(), add: id === undefined });
    if (id === undefined) this.room.send("add", { title: "load" });
    else this.room.send("remove", { id });
  }
}

/** One player at `rate` inputs/s until `endAt`, open loop (it does not wait for acks). */
async function drive(player: Player, rate: number, endAt: number): Promise<void> {
  const interval = 1000 / rate;
  let next = performance.now() + Math.random() * interval;
  while (next < endAt) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    next += interval;
    player.send();
  }
}

/** Drives `players` at `rate` for SECONDS with the CPU of `pids` metered over the step. */
async function measure(
  players: Player[],
  times: number[],
  rate: number,
  seconds: number,
  pids: Record<string, number>,
): Promise<Step> {
  const meter = new CpuMeter(pids);
  meter.start();
  const started = performance.now();
  const endAt = started + seconds * 1000;
  await Promise.all(players.map((p) => drive(p, rate, endAt)));
  const drainUntil = performance.now() + DRAIN_MS;
  while (players.some((p) => p.outstanding > 0) && performance.now() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = meter.stop();
  const offered = CLIENTS * rate;
  const ackedPerSec = times.length / elapsed;
  const errors = players.reduce((n, p) => n + p.outstanding + p.errors, 0);
  const { p50, p99 } = latencies(times, 2);
  const errorCodes: Record<string, number> = {};
  const lost = players.reduce((n, p) => n + p.outstanding, 0);
  if (lost > 0) errorCodes.unanswered = lost;
  for (const p of players) {
    for (const [code, n] of Object.entries(p.errorCodes ?? {})) {
      errorCodes[code] = (errorCodes[code] ?? 0) + n;
    }
  }
  return {
    errorCodes,
    offered,
    ackedPerSec: round(ackedPerSec, 0),
    p50,
    p99,
    errors,
    keptUp: ackedPerSec >= KEPT_UP_SHARE * offered && errors === 0 && p99 <= P99_LIMIT_MS,
    serverCpu: round(cpu.total, 2),
    cpuUsPerInput: round((cpu.total / Math.max(1, times.length)) * 1e6, 1),
    perProcess: Object.fromEntries(
      Object.entries(cpu.perProcess).map(([name, s]) => [name, round(s, 2)]),
    ),
    generatorCpu: round(cpu.generator, 2),
    seconds: round(elapsed, 2),
    load1: round(loadavg()[0]!, 1),
  };
}

type StepFn = (rate: number, seconds: number) => Promise<Step>;

/**
 * Runs every shape's steps interleaved (rate by rate, the shapes taking
 * turns), so a busy spell on this shared machine falls on all of them alike.
 * A shape stops once two of its steps in a row are not kept up with (a
 * saturated system only gets slower; the table shows "-" after).
 */
async function steppedTogether(
  shapes: Record<string, StepFn>,
  onWarm: () => void,
): Promise<Record<string, (Step | undefined)[]>> {
  // Warm-up (JIT, connection pools, first activations), not reported.
  for (const step of Object.values(shapes)) await step(RATES[0]!, WARMUP_SECONDS);
  onWarm();
  const steps: Record<string, (Step | undefined)[]> = {};
  const misses: Record<string, number> = {};
  for (const rate of RATES) {
    for (const [name, step] of Object.entries(shapes)) {
      const list = (steps[name] ??= []);
      if ((misses[name] ?? 0) >= 2) {
        list.push(undefined);
        continue;
      }
      const s = await step(rate, SECONDS);
      list.push(s);
      misses[name] = s.keptUp ? 0 : (misses[name] ?? 0) + 1;
    }
  }
  return steps;
}

async function colyseusStep(
  endpoints: string[],
  rate: number,
  seconds: number,
  pids: Record<string, number>,
) {
  const times: number[] = [];
  const players: ColyseusPlayer[] = [];
  const ids = Array.from({ length: ROOMS }, () => "");
  for (let i = 0; i < CLIENTS; i++) {
    const r = i % ROOMS;
    // Matchmaking on either process; the seat reservation names the room's process.
    const client = new ColyseusClient(endpoints[i % endpoints.length]!);
    const room = ids[r] === "" ? await client.create("party") : await client.joinById(ids[r]!, {});
    ids[r] = room.roomId;
    players.push(new ColyseusPlayer(room, (ms) => times.push(ms)));
  }
  try {
    return await measure(players, times, rate, seconds, pids);
  } finally {
    await Promise.all(players.map((p) => p.room.leave().catch(() => undefined)));
  }
}

/**
 * `signal`, then SIGKILL if the child has not exited within 10 s. When
 * profiling, first has the child write its profile (cpu-probe.cjs).
 */
async function stop(child: ChildHandle, how: NodeJS.Signals): Promise<void> {
  if (CPU_PROF) {
    signal(child, "SIGWINCH"); // the second: write the profile
    const file = join(CPU_PROF, `${child.pid}.cpuprofile`);
    await until(() => existsSync(file), 10_000, "profile").catch(() => undefined);
  }
  const timer = setTimeout(() => void child.kill("SIGKILL"), 10_000);
  try {
    await child.kill(how);
  } finally {
    clearTimeout(timer);
  }
}

function signal(child: ChildHandle, name: NodeJS.Signals): void {
  try {
    process.kill(child.pid, name);
  } catch {
    // already gone
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One command to Redis over RESP (no client library needed for two commands). */
function redisCommand(args: string[]): Promise<string> {
  const [host, port] = REDIS.split(":");
  const wire = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(Number(port), host!, () => socket.write(wire));
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
      // A bulk reply is `$<len>\r\n<data>\r\n`; others are one line.
      const bulk = /^\$(\d+)\r\n/.exec(text);
      if (bulk ? text.length >= bulk[0].length + Number(bulk[1]) + 2 : text.endsWith("\r\n")) {
        socket.end();
        resolve(text);
      }
    });
    socket.on("error", reject);
  });
}

async function redisPid(): Promise<number> {
  const info = await redisCommand(["INFO", "server"]);
  return Number(/process_id:(\d+)/.exec(info)![1]);
}

interface Started {
  steps: Record<string, StepFn>;
  /** Server processes of the shape (profiled with BENCH_CPU_PROF). */
  children: ChildHandle[];
  stop(): Promise<void>;
}

/** Colyseus with 1 process, or 2 on Redis (each matchmaking, rooms spread by Colyseus). */
async function startColyseus(name: string, processes: 1 | 2): Promise<Started> {
  const prefix = `rookery-bench-${randomBytes(4).toString("hex")}:`;
  const servers: ChildHandle[] = [];
  const stopAll = async () => {
    // SIGTERM: Colyseus removes its rooms and process from Redis on a graceful shutdown.
    await Promise.all(servers.map((s) => stop(s, "SIGTERM")));
    if (processes > 1) {
      const script =
        "for _,k in ipairs(redis.call('keys', ARGV[1])) do redis.call('del', k) end return 1";
      await redisCommand(["EVAL", script, "0", `${prefix}*`]).catch(() => undefined);
    }
  };
  try {
    for (let i = 0; i < processes; i++) {
      const env: Record<string, string> =
        processes === 1
          ? { ...PROFILED }
          : {
              ...PROFILED,
              COLYSEUS_PORT: String(await freePort()),
              COLYSEUS_REDIS_PREFIX: prefix,
              COLYSEUS_REDIS: REDIS,
            };
      servers.push(
        await spawnChild({
          script: new URL("./colyseus-server.ts", import.meta.url).pathname,
          env,
        }),
      );
    }
    const ports = await Promise.all(
      servers.map(
        async (s) =>
          (JSON.parse(await s.waitForLine(/"event":"ready"/, 20_000)) as { port: number }).port,
      ),
    );
    const pids: Record<string, number> = Object.fromEntries(
      servers.map((s, i) => [`colyseus${processes === 1 ? "" : i + 1}`, s.pid]),
    );
    if (processes > 1) pids.redis = await redisPid();
    const endpoints = ports.map((p) => `ws://127.0.0.1:${p}`);
    return {
      steps: { [name]: (rate, seconds) => colyseusStep(endpoints, rate, seconds, pids) },
      children: servers,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

interface RookeryProcess {
  child: ChildHandle;
  url: string;
  http: string;
}

let rookerySteps = 0;

/** Rookery's setup of one step: rooms alternate between the processes; others find them by /discover. */
async function rookeryStep(
  servers: RookeryProcess[],
  type: string,
  rate: number,
  seconds: number,
  pids: Record<string, number>,
  misrouted: { count: number },
) {
  const times: number[] = [];
  // Fresh rooms per step, as Colyseus creates them: the warm-up's queues must not carry over.
  const stepId = ++rookerySteps;
  const room = (i: number): RoomRef => ({ type, id: `${type}-${stepId}-${i % ROOMS}` });
  const home = (i: number) => servers[(i % ROOMS) % servers.length]!;
  const players: QueuePlayer[] = [];
  const join = async (i: number, url: string) => {
    const ws = await joinedClient(url, `load-${type}-${stepId}-${i}`, room(i));
    players.push(new QueuePlayer(ws, room(i), (ms) => times.push(ms), true));
  };
  // First joiners: the room is placed on the process they are connected to.
  await Promise.all(Array.from({ length: ROOMS }, (_, r) => join(r, home(r).url)));
  for (let i = ROOMS; i < CLIENTS; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, CLIENTS - i) }, async (_, j) => {
        const n = i + j;
        // Asked of the process that does not own the room: it answers from the room's lease.
        const other = servers[((n % ROOMS) + 1) % servers.length]!;
        const url = await discover(other.http, room(n));
        if (url !== home(n).url) misrouted.count++;
        await join(n, url);
      }),
    );
  }
  try {
    return await measure(players, times, rate, seconds, pids);
  } finally {
    await Promise.all(
      players.map((p) =>
        Promise.race([left(p.ws, p.room), new Promise((r) => setTimeout(r, 1000))]).then(() =>
          p.ws.terminate(),
        ),
      ),
    );
  }
}

/** Bytes of one durable `party` journal entry (223-245 B measured by the colyseus bench). */
const APPENDS_ENTRY_BYTES = 240;

/**
 * The journal appends of one step alone: the step's inputs appended by a
 * process of their own (journal-appends.ts) on the same nats-server. Its CPU
 * and nats-server's per input is what journaling costs at the batch sizes
 * its latency gives (see appendsAloneAt).
 */
async function appendsStep(natsUrl: string, natsPid: number, rate: number, seconds: number) {
  const offered = CLIENTS * rate;
  const child = await spawnChild({
    script: new URL("./journal-appends.ts", import.meta.url).pathname,
    args: [String(offered), String(seconds), String(APPENDS_ENTRY_BYTES)],
    env: { NATS_URL: natsUrl, APPENDS_SUBJECT: `s${++rookerySteps}` },
  });
  try {
    await child.waitForLine(/"event":"ready"/, 20_000);
    const meter = new CpuMeter({ nats: natsPid, appender: child.pid });
    meter.start();
    const started = performance.now();
    signal(child, "SIGUSR2");
    const line = await child.waitForLine(/"event":"step"/, (seconds + 30) * 1000);
    const elapsed = (performance.now() - started) / 1000;
    const cpu = meter.stop();
    const r = JSON.parse(line) as { acked: number; appends: number; p50: number; p99: number };
    const ackedPerSec = r.acked / elapsed;
    const step: Step = {
      offered,
      ackedPerSec: round(ackedPerSec, 0),
      p50: round(r.p50, 2),
      p99: round(r.p99, 2),
      errors: 0,
      errorCodes: {},
      keptUp: ackedPerSec >= KEPT_UP_SHARE * offered && r.p99 <= P99_LIMIT_MS,
      serverCpu: round(cpu.perProcess.nats! + cpu.perProcess.appender!, 2),
      cpuUsPerInput: round(((cpu.perProcess.nats! + cpu.perProcess.appender!) / r.acked) * 1e6, 1),
      perProcess: Object.fromEntries(
        Object.entries(cpu.perProcess).map(([name, sec]) => [name, round(sec, 2)]),
      ),
      generatorCpu: round(cpu.generator, 2),
      seconds: round(elapsed, 2),
      load1: round(loadavg()[0]!, 1),
    };
    return step;
  } finally {
    await child.kill("SIGKILL");
  }
}

/** Rookery co-located: one nats-server, two processes that are each gateway and node. */
async function startRookery(misrouted: { count: number }): Promise<Started> {
  const nats = await startNatsServer();
  const children: ChildHandle[] = [];
  const stopAll = async () => {
    for (const child of children) await stop(child, "SIGKILL");
    await nats.stop();
  };
  try {
    const env = { ROOKERY_IDLE_MS: "0", ...BENCH_ROOMS, ...UNLIMITED_RATE, ...PROFILED };
    const servers: RookeryProcess[] = [];
    for (const id of ["co-1", "co-2"]) {
      const s = await startServerProcess(nats.url, "bench_load", id, env);
      children.push(s.child);
      servers.push({ child: s.child, url: s.url, http: `http://127.0.0.1:${s.port}` });
    }
    const pids = {
      server1: servers[0]!.child.pid,
      server2: servers[1]!.child.pid,
      nats: nats.pid!,
    };
    const shape =
      (type: string): StepFn =>
      (rate, seconds) =>
        rookeryStep(servers, type, rate, seconds, pids, misrouted);
    return {
      steps: {
        rookeryEphemeral: shape("eparty"),
        rookeryDurable: shape("party"),
        journalAppends: (rate, seconds) => appendsStep(nats.url, nats.pid!, rate, seconds),
      },
      children,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The highest acked inputs/s among the steps kept up with (0 when none). */
function highest(steps: (Step | undefined)[]): number {
  return Math.max(0, ...steps.filter((s) => s?.keptUp).map((s) => s!.ackedPerSec));
}

/**
 * The highest step both kept up with: CPU per input and p99 compared there,
 * at the same offered load. When there is none, the lowest step both ran
 * (`keptUp: false` says so).
 */
function atCommonStep(base: (Step | undefined)[], other: (Step | undefined)[]) {
  const compare = (b: Step, o: Step, keptUp: boolean) => ({
    offered: b.offered,
    keptUp,
    cpuPerInputRatio: round(o.cpuUsPerInput / b.cpuUsPerInput, 2),
    p99Ratio: round(o.p99 / b.p99, 2),
  });
  for (let i = RATES.length - 1; i >= 0; i--) {
    const b = base[i];
    const o = other[i];
    if (b?.keptUp && o?.keptUp) return compare(b, o, true);
  }
  if (base[0] && other[0]) return compare(base[0], other[0], false);
  return { offered: 0, keptUp: false, cpuPerInputRatio: NaN, p99Ratio: NaN };
}

/**
 * The journal appends alone at the step the durable CPU ratio was taken at.
 * Not a floor: an append costs about the same whatever it carries, so the
 * CPU per input falls as batches grow, and batches grow with latency (the
 * durable room's group commit at 30 ms p50 batches far more than this
 * process at 1-3 ms).
 */
function appendsAloneAt(steps: (Step | undefined)[], offered: number) {
  const s = steps[RATES.findIndex((rate) => CLIENTS * rate === offered)];
  return s ? { offered, cpuUsPerInput: s.cpuUsPerInput, p50: s.p50 } : null;
}

/** The most acked inputs/s in any step, kept up with or not. */
function mostAcked(steps: (Step | undefined)[]): number {
  return Math.max(0, ...steps.map((s) => s?.ackedPerSec ?? 0));
}

const SHAPE_NAMES: Record<string, string> = {
  colyseus1: "colyseus 0.16, 1 process",
  colyseus2: "colyseus 0.16, 2 processes + redis",
  rookeryEphemeral: "rookery co-located x2, ephemeral",
  rookeryDurable: "rookery co-located x2, durable",
  journalAppends: "journal appends alone",
};

export async function runLoadBench(): Promise<void> {
  const misrouted = { count: 0 };
  const started: Started[] = [];
  let results: Record<string, (Step | undefined)[]>;
  try {
    if (SHAPES.has("colyseus1")) started.push(await startColyseus("colyseus1", 1));
    if (SHAPES.has("colyseus2")) started.push(await startColyseus("colyseus2", 2));
    const rookery = [...SHAPES].some((name) => name.startsWith("rookery"));
    if (rookery) started.push(await startRookery(misrouted));
    const all = Object.assign({}, ...started.map((s) => s.steps)) as Record<string, StepFn>;
    // The journal appends alone run beside the durable shape.
    const wanted = (name: string) =>
      SHAPES.has(name) ||
      (name.startsWith("rookery") && SHAPES.has("rookery")) ||
      (name === "journalAppends" && (SHAPES.has("rookery") || SHAPES.has("rookeryDurable")));
    // With BENCH_CPU_PROF, profiles cover the measured steps only (the first SIGWINCH starts them).
    const startProfiles = () => {
      if (CPU_PROF) for (const s of started) for (const c of s.children) signal(c, "SIGWINCH");
    };
    results = await steppedTogether(
      Object.fromEntries(Object.entries(all).filter(([name]) => wanted(name))),
      startProfiles,
    );
  } finally {
    for (const s of started) await s.stop();
  }
  const c1 = results.colyseus1 ?? NOT_RUN;
  const c2 = results.colyseus2 ?? NOT_RUN;
  const r = {
    ephemeral: results.rookeryEphemeral ?? NOT_RUN,
    durable: results.rookeryDurable ?? NOT_RUN,
    misrouted: misrouted.count,
  };
  const systems: [string, (Step | undefined)[]][] = Object.keys(SHAPE_NAMES).map((k) => [
    SHAPE_NAMES[k]!,
    results[k] ?? NOT_RUN,
  ]);
  const rows = RATES.flatMap((rate, i) =>
    systems.map(([system, steps]) => {
      const s = steps[i];
      if (!s) {
        return {
          system,
          offered: CLIENTS * rate,
          acked_per_s: "-",
          p50_ms: "-",
          p99_ms: "-",
          errors: "-",
          kept_up: "-",
          server_cpu_s: "-",
          cpu_us_per_input: "-",
          cpu_s_by_process: "(not run)",
          generator_cpu_s: "-",
          load_1m: "-",
        };
      }
      return {
        system,
        offered: s.offered,
        acked_per_s: s.ackedPerSec,
        p50_ms: s.p50,
        p99_ms: s.p99,
        errors: Object.entries(s.errorCodes)
          .map(([code, n]) => `${code} ${n}`)
          .join(", "),
        kept_up: s.keptUp ? "yes" : "no",
        server_cpu_s: s.serverCpu,
        cpu_us_per_input: s.cpuUsPerInput,
        cpu_s_by_process: Object.entries(s.perProcess)
          .map(([name, sec]) => `${name} ${sec}`)
          .join(", "),
        generator_cpu_s: s.generatorCpu,
        load_1m: s.load1,
      };
    }),
  );
  const highs = Object.fromEntries(systems.map(([name, steps]) => [name, highest(steps)]));
  const ephemeralAt = atCommonStep(c1, r.ephemeral);
  const durableAt = atCommonStep(c1, r.durable);
  const appendsAlone = appendsAloneAt(results.journalAppends ?? NOT_RUN, durableAt.offered);
  report(
    `same load (${CLIENTS} clients in ${ROOMS} rooms, ${SECONDS} s per step, add/remove; kept up: acked >= ${KEPT_UP_SHARE * 100}% of offered, no loss, p99 <= ${P99_LIMIT_MS} ms)`,
    rows,
    {
      highestKeptUpAckedPerSec: highs,
      mostAckedPerSecAnyStep: Object.fromEntries(
        systems.map(([name, steps]) => [name, mostAcked(steps)]),
      ),
      ephemeralAtHighestCommonStep: ephemeralAt,
      durableAtHighestCommonStep: durableAt,
      journalAppendsAloneAtThatStep: appendsAlone,
      colyseus2ThroughputRatio: round(highest(c2) / highest(c1), 2),
      discoverMisrouted: r.misrouted,
    },
  );
  console.log(
    JSON.stringify({
      ephemeralThroughputRatio: round(highest(r.ephemeral) / highest(c1), 2),
      durableThroughputRatio: round(highest(r.durable) / highest(c1), 2),
      ephemeralCpuPerInputRatio: ephemeralAt.cpuPerInputRatio,
      durableCpuPerInputRatio: durableAt.cpuPerInputRatio,
    }),
  );
}
