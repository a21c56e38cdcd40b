/**
 * Per-input CPU of the room core (`npm run bench -- core`): N inputs applied
 * to a RoomCore of the party and chess example rooms, as the mailbox applies
 * them (no I/O, no budget watchdog), timed with `process.cpuUsage` so other
 * load on the machine counts less than it would in wall time. Each figure is
 * the median of several runs, with their spread.
 *
 * Before/after in one run: point ROOKERY_BENCH_BASELINE at another copy of
 * packages/actors/src (for example `git archive <commit> packages/actors/src
 * | tar -x -C /tmp/base`, with /tmp/base/node_modules a link to this tree's)
 * and its RoomCore is measured in the same process, runs interleaved.
 * Without it, the state and body copies are also timed both ways, so the
 * share of the old `structuredClone` path shows in any run.
 */
import { join } from "node:path";
import { partyQueueRoom, createChessRoom } from "@rookery/examples";
import type { Value } from "@rookery/protocol";
import { RoomCore, type JournalEntry } from "@rookery/actors/internal";
import type { MemberInfo } from "@rookery/protocol/internal";
import { copyPlain } from "../../packages/actors/src/plain-copy";

type Core = Pick<RoomCore, "apply" | "state">;
type CoreClass = new (
  definition: never,
  room: { type: string; id: string },
  snapshot: null,
  budgetMs: number,
) => Core;

const RUNS = Number(process.env.ROOKERY_BENCH_RUNS ?? 7);
const INPUTS = Number(process.env.ROOKERY_BENCH_INPUTS ?? 20_000);
/** Items the party queue holds while the bench runs (a busy party). */
const QUEUE = 20;
/** Plies per chess game (a typical game is 60-100); then a new room. */
const PLIES = 80;

const memberInfo = (user: string): MemberInfo => ({
  id: `${user}:session`,
  user,
  name: user,
  gateway: "gw",
  gatewayEpoch: "e",
  conn: `c-${user}`,
});

interface Workload {
  name: string;
  /** One room's entries: joins first (not timed), then the inputs. */
  room(
    seqs: Map<string, number>,
    inputs: number,
  ): { joins: JournalEntry[]; inputs: JournalEntry[] };
  /** Inputs per room before a new room starts. */
  perRoom: number;
  definition: unknown;
}

function input(seqs: Map<string, number>, who: MemberInfo, type: string, body: Value, at: number) {
  const seq = (seqs.get(who.id) ?? 0) + 1;
  seqs.set(who.id, seq);
  return { k: "input", member: who.id, seq, type, body, at } as JournalEntry;
}

const party: Workload = {
  name: "party (20-item queue, 8 members)",
  definition: partyQueueRoom,
  perRoom: Infinity,
  room(seqs, count) {
    const members = Array.from({ length: 8 }, (_, i) => memberInfo(`p${i}`));
    const joins: JournalEntry[] = members.map((member, i) => ({ k: "join", member, at: i }));
    const inputs: JournalEntry[] = [];
    let at = 100;
    let next = 1;
    let head = 1;
    const add = (who: MemberInfo) => {
      inputs.push(input(seqs, who, "add", { title: `song ${next}` }, at++));
      next += 1;
    };
    for (let i = 0; i < QUEUE; i++) add(members[i % 8]!);
    // Steady state: add, move, skip (the leader, p0), move: the queue stays near QUEUE items.
    for (let i = 0; inputs.length < QUEUE + count; i++) {
      const who = members[i % 8]!;
      const step = i % 4;
      if (step === 0) add(who);
      else if (step === 2) {
        inputs.push(input(seqs, members[0]!, "skip", {}, at++));
        head += 1;
      } else inputs.push(input(seqs, who, "move", { id: `item-${head + 5}`, to: 0 }, at++));
    }
    return { joins: [...joins, ...inputs.slice(0, QUEUE)], inputs: inputs.slice(QUEUE) };
  },
};

const KNIGHTS = ["g1f3", "g8f6", "f3g1", "f6g8"];
const chess: Workload = {
  name: `chess (${PLIES}-ply games)`,
  definition: createChessRoom({ type: "chess" }),
  perRoom: PLIES,
  room(seqs, count) {
    const [w, b] = [memberInfo("w"), memberInfo("b")];
    const joins: JournalEntry[] = [
      { k: "join", member: w, at: 1 },
      { k: "join", member: b, at: 2 },
    ];
    const inputs: JournalEntry[] = [];
    for (let i = 0; i < count; i++) {
      const move = KNIGHTS[i % 4]!;
      const body = { from: move.slice(0, 2), to: move.slice(2) };
      inputs.push(input(seqs, i % 2 === 0 ? w : b, "move", body, 1000 + i * 1000));
    }
    return { joins, inputs };
  },
};

/** CPU µs per input of applying `INPUTS` inputs, rooms prepared (and joined) untimed. */
function measure(Core: CoreClass, work: Workload): number {
  const rooms: { core: Core; inputs: JournalEntry[] }[] = [];
  for (let done = 0, r = 0; done < INPUTS; r++) {
    const count = Math.min(work.perRoom, INPUTS - done);
    const { joins, inputs } = work.room(new Map(), count);
    const core = new Core(work.definition as never, { type: "bench", id: `r${r}` }, null, 0);
    for (const e of joins) core.apply(e);
    rooms.push({ core, inputs });
    done += inputs.length;
  }
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  for (const { core, inputs } of rooms) for (const e of inputs) core.apply(e);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / INPUTS;
}

/** CPU µs per call of `fn(value)`. */
function perCall(fn: (v: unknown) => unknown, value: unknown, calls = 20_000): number {
  for (let i = 0; i < 1000; i++) fn(value);
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) fn(value);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${median.toFixed(2)} µs (${sorted[0]!.toFixed(2)}-${sorted.at(-1)!.toFixed(2)})`;
}

/** The room's state after its joins and one room's worth of inputs (what each apply copies). */
function typicalState(work: Workload): unknown {
  const { joins, inputs } = work.room(new Map(), Math.min(work.perRoom, 400) / 2);
  const core = new RoomCore(work.definition as never, { type: "bench", id: "s" }, null, 0);
  for (const e of [...joins, ...inputs]) core.apply(e);
  return core.state;
}

export async function runCore(): Promise<void> {
  const variants: [string, CoreClass][] = [["current", RoomCore as unknown as CoreClass]];
  const baseline = process.env.ROOKERY_BENCH_BASELINE;
  if (baseline) {
    const module = (await import(join(baseline, "room-core.ts"))) as { RoomCore: CoreClass };
    variants.push(["baseline", module.RoomCore]);
  }
  const load = (await import("node:os")).loadavg().map((l) => l.toFixed(1));
  console.log(`room core: ${INPUTS} inputs x ${RUNS} runs, load average ${load.join(" ")}`);
  console.log("CPU per input: median (min-max)");
  for (const work of [party, chess]) {
    const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    // Warm-up, then interleaved runs so load changes hit every variant alike.
    for (const [, Core] of variants) measure(Core, work);
    for (let run = 0; run < RUNS; run++) {
      for (const [name, Core] of variants) samples.get(name)!.push(measure(Core, work));
    }
    console.log(`  ${work.name}`);
    for (const [name, values] of samples) console.log(`    ${name.padEnd(9)} ${stats(values)}`);
    const state = typicalState(work);
    const clone = Array.from({ length: RUNS }, () => perCall(structuredClone, state));
    const plain = Array.from({ length: RUNS }, () => perCall(copyPlain, state));
    console.log(`    state copy: structuredClone ${stats(clone)}, copyPlain ${stats(plain)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runCore();
