/**
 * Handler time budget (issue 11, item 4): what each mechanism costs per input
 * at low load (one input per event-loop turn, as a lightly loaded node sees
 * them), what the cooperative checks cost inside a tight loop, and how
 * promptly each cuts a runaway loop off. In this process; no NATS.
 *
 * - none: no budget at all (ROOKERY_HANDLER_BUDGET_MS=0), the floor;
 * - vm per call: `vm.Script.runInContext` with a timeout around each handler;
 * - batch of 1: the node's HandlerBatch with uninstrumented room code: one
 *   vm call per turn, i.e. per input at low load;
 * - instrumented: room code loaded through loadRooms (checks compiled in), the
 *   same batch, no vm call.
 */
import {
  HandlerBatch,
  isInstrumented,
  RoomCore,
  runHandler,
  type BatchJob,
  type JournalEntry,
  type RoomDefinition,
} from "@rookery/actors";
import { loadRooms } from "../../services/node/src/load-rooms";
import { report, round } from "./report";

const BUDGET_MS = 250;
const MEMBER = {
  id: "alice:session-alice-00000001",
  user: "alice",
  name: "alice",
  gateway: "gw",
  gatewayEpoch: "e0",
  conn: "c",
};
const fixtures = new URL("../../packages/actors/test/fixtures/runaway-rooms.ts", import.meta.url)
  .href;

type Room = RoomDefinition<unknown, never>;

function core(definition: Room, budgetMs: number): RoomCore {
  const c = new RoomCore(definition as never, { type: definition.type, id: "b" }, null, budgetMs);
  c.apply({ k: "join", member: MEMBER, at: 0 });
  return c;
}

let seq = 0;
function input(type: string, body: unknown): JournalEntry {
  return { k: "input", member: MEMBER.id, seq: ++seq, type, body: body as never, at: 1 };
}

/** Per input (us): `apply` called directly, each handler under its own budget. */
function direct(c: RoomCore, count: number): number {
  const started = performance.now();
  for (let i = 0; i < count; i++) c.apply(input("inc", null));
  return ((performance.now() - started) * 1000) / count;
}

/** Per input (us): one job per event-loop turn through a HandlerBatch, as a node at low load. */
async function turns(c: RoomCore, budgetMs: number, count: number): Promise<number> {
  const batch = new HandlerBatch(budgetMs, (error) => {
    throw error;
  });
  const one = () =>
    new Promise<void>((resolve) => {
      const job: BatchJob = {
        after: undefined,
        run: () => {
          c.apply(input("inc", null));
          job.after = resolve;
        },
        rollback: () => undefined,
        failed: (error) => () => {
          throw error;
        },
      };
      batch.submit(job);
    });
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await one();
    // A new macrotask, so every input is its own turn (its own batch).
    await new Promise((r) => setImmediate(r));
  }
  return ((performance.now() - started) * 1000) / count;
}

/** Per call (us) of the mechanism alone, around a handler that does nothing. */
function mechanism(definition: Room, budgetMs: number, count: number): number {
  const nothing = () => undefined;
  const started = performance.now();
  for (let i = 0; i < count; i++) runHandler(definition, nothing, budgetMs);
  return ((performance.now() - started) * 1000) / count;
}

/** ns per iteration of a tight loop run as a handler. */
function loopNs(c: RoomCore, n: number): number {
  c.apply(input("sum", { n: n / 10 }));
  const started = performance.now();
  c.apply(input("sum", { n }));
  return ((performance.now() - started) * 1e6) / n;
}

/** How long a runaway `spin` ran before it was cut off (ms), and how it ended. */
function cutoff(c: RoomCore, type: string): { ms: number; outcome: string } {
  const started = performance.now();
  try {
    c.apply(input(type, { ms: 5000 }));
    return { ms: performance.now() - started, outcome: "returned" };
  } catch (error) {
    return { ms: performance.now() - started, outcome: (error as Error).name };
  }
}

export async function runBudget(): Promise<void> {
  // The same module twice: as a room module (instrumented) and as plain code (a new URL).
  const plain = (await import(`${fixtures}?plain`)) as { runawayRoom: Room };
  const rooms = (await loadRooms([fixtures])) as Room[];
  const instrumented = rooms.find((r) => r.type === "runaway")!;
  if (!isInstrumented(instrumented) || isInstrumented(plain.runawayRoom)) {
    throw new Error("expected one instrumented and one plain copy of the runaway room");
  }
  const variants: [string, Room, number][] = [
    ["none (budget 0)", plain.runawayRoom, 0],
    ["vm timeout", plain.runawayRoom, BUDGET_MS],
    ["instrumented checks", instrumented, BUDGET_MS],
  ];
  // Rounds interleave the variants and each figure is the best round: on a
  // shared machine the other processes' load only ever adds time.
  const ROUNDS = 5;
  const figures = variants.map(() => ({ alone: Infinity, apply: Infinity, turn: Infinity }));
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [i, [, room, budget]] of variants.entries()) {
      const f = figures[i]!;
      const alone = mechanism(room, budget, round === 0 ? 500 : 5000);
      const apply = direct(core(room, budget), round === 0 ? 500 : 5000);
      const turn = await turns(core(room, budget), budget, round === 0 ? 500 : 2000);
      if (round === 0) continue; // warm-up
      f.alone = Math.min(f.alone, alone);
      f.apply = Math.min(f.apply, apply);
      f.turn = Math.min(f.turn, turn);
    }
  }
  const floor = figures[0]!;
  const rows = variants.map(([name], i) => {
    const f = figures[i]!;
    return {
      mechanism: name,
      "alone, us/call": round(f.alone, 3),
      "apply, us/input": round(f.apply, 2),
      "one input per turn, us/input": round(f.turn, 2),
      "turn over none, us": round(f.turn - floor.turn, 2),
    };
  });
  const key = ["none", "vm", "instrumented"];
  const summary = Object.fromEntries(
    figures.flatMap((f, i) => [
      [`${key[i]}AloneUs`, round(f.alone, 3)],
      [`${key[i]}TurnUs`, round(f.turn, 2)],
    ]),
  );
  report("budget: per input at low load (best of 5 rounds)", rows, summary);

  const N = 10_000_000;
  const loops: [string, RoomCore][] = [
    ["plain (no checks)", core(plain.runawayRoom, 0)],
    ["instrumented, no budget armed", core(instrumented, 0)],
    ["instrumented, budget armed", core(instrumented, 60_000)],
    ["plain, inside vm timeout", core(plain.runawayRoom, 60_000)],
  ];
  const ns = loops.map(() => Infinity);
  for (let round = 0; round < 5; round++) {
    for (const [i, [, c]] of loops.entries()) ns[i] = Math.min(ns[i]!, loopNs(c, N));
  }
  report(
    "budget: tight loop (for, i < n, total += i & 7), best of 5",
    loops.map(([code], i) => ({ code, "ns/iteration": round(ns[i]!, 3) })),
    { plainNs: round(ns[0]!, 3), checkedNs: round(ns[2]!, 3) },
  );

  const cuts = [
    ["vm timeout", core(plain.runawayRoom, BUDGET_MS), "spin"],
    ["instrumented", core(instrumented, BUDGET_MS), "spin"],
    ["instrumented, catches and loops on", core(instrumented, BUDGET_MS), "stubborn"],
    ["instrumented, swallows and returns", core(instrumented, BUDGET_MS), "swallow"],
    ["instrumented, recursion catching RangeError", core(instrumented, BUDGET_MS), "recurse"],
  ] as const;
  report(
    `budget: a runaway handler, budget ${BUDGET_MS} ms`,
    cuts.map(([name, c, type]) => {
      const { ms, outcome } = cutoff(c, type);
      return { handler: name, "cut off after, ms": round(ms, 1), outcome };
    }),
    {},
  );
}
