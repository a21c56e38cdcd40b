/**
 * One chaos run: bring the system up, put load on it while the seeded
 * nemesis injects faults, heal, quiesce, read the final state and check
 * the whole history.
 */
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { until } from "@rookery/testkit";
import { checkHistory } from "./checker";
import { FAULT_KINDS, runSchedule, type FaultKind } from "./faults";
import { quiesce, readFinal } from "./final-read";
import type { CheckReport, FaultWindow, History } from "./history";
import { Player } from "./player";
import { Prng } from "./prng";
import { System, type Shape } from "./processes";

export interface RunOptions {
  seed: number;
  /** @default "split" */
  shape?: Shape;
  /** Load length, ms. */
  loadMs: number;
  kinds?: readonly FaultKind[];
  /** Run `kinds` in order (cycling) rather than drawing them. */
  cycle?: boolean;
  clients?: number;
  rooms?: number;
  /** Mean time between two inputs of one client. */
  paceMs?: number;
  /** Calm time before the first fault. */
  warmupMs?: number;
  log?: (line: string) => void;
}

export interface RunResult {
  history: History;
  report: CheckReport;
  waits: { what: string; ok: boolean; ms: number }[];
  wallMs: number;
  /** Every process's log lines (warn and up), per incarnation. */
  logs: { id: string; lines: string[] }[];
}

const CONNECT_BATCH = 10;

export async function runOnce(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  // The schedule draws from its own generator so the load's timing cannot shift its choices.
  const rng = new Prng(options.seed);
  const system = await System.start({
    prefix: `chaos_${options.seed}`,
    shape: options.shape ?? "split",
    nodes: 3,
    gateways: 2,
  });
  log(`system up in ${Math.round(performance.now() - started)} ms`);
  let monitor: NatsConnection | undefined;
  let players: Player[] = [];
  const closers: (() => void)[] = [];
  try {
    monitor = await natsConnect({ servers: system.nats.urls, maxReconnectAttempts: -1 });
    let t0 = performance.now();
    const clock = () => Math.round(performance.now() - t0);
    players = await startPlayers(system, clock, options);
    closers.push(...players.map((p) => () => p.client.close()));
    log(`${players.length} clients in ${options.rooms ?? 10} rooms`);

    t0 = performance.now();
    for (const p of players) p.start(options.paceMs ?? 333);
    const windows: FaultWindow[] = [];
    const ctx = { system, players, rng, monitor, clock };
    const schedule = runSchedule(
      ctx,
      {
        kinds: options.kinds ?? FAULT_KINDS,
        cycle: options.cycle,
        loadMs: options.loadMs,
        warmupMs: options.warmupMs ?? 5000,
      },
      windows,
      () => clock() >= options.loadMs,
    );
    await until(() => clock() >= options.loadMs, options.loadMs + 60_000, "load duration");
    for (const p of players) p.stop();
    await schedule;
    for (const w of windows) log(`fault ${w.kind} at ${w.start} ms: ${w.detail}`);

    const waits = await quiesce(players);
    const read = await readFinal(system, players, monitor, clock);
    closers.push(read.close);
    const history: History = {
      seed: options.seed,
      loadMs: options.loadMs,
      inputs: players.flatMap((p) => p.inputs),
      clients: players.map((p) => p.log(p.roomId)),
      faults: windows,
      final: read.final,
      auditor: read.auditor,
      liveNodes: read.liveNodes,
      unexpectedExits: [...system.unexpectedExits],
      dupAcks: players.reduce((n, p) => n + p.dupAcks, 0),
    };
    return {
      history,
      report: checkHistory(history),
      waits: [...waits, ...read.waits],
      wallMs: Math.round(performance.now() - started),
      logs: system.logs,
    };
  } finally {
    for (const close of closers) close();
    await monitor?.close().catch(() => undefined);
    await system.stop();
  }
}

/** Each room's clients start spread over the gateways; discovery serves every reconnect. */
async function startPlayers(
  system: System,
  clock: () => number,
  options: RunOptions,
): Promise<Player[]> {
  const count = options.clients ?? 50;
  const rooms = options.rooms ?? 10;
  const gateways = system.list("gateway").map((g) => system.gatewayUrl(g.id));
  const discovery = system.discoveryUrls();
  const players = Array.from(
    { length: count },
    (_, i) => new Player(i, `r${i % rooms}`, clock, new Prng(options.seed * 1000 + i)),
  );
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    await Promise.all(
      players.slice(i, i + CONNECT_BATCH).map(async (p) => {
        // Every room gets members on both gateways, so events cross between them.
        await p.connect(discovery, gateways[Math.floor(p.index / rooms) % gateways.length]);
        await p.join(p.roomId);
      }),
    );
  }
  return players;
}
