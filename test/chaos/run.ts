/**
 * `npm run chaos -- --seed 7 --runs 3 --duration 60 --faults node-kill,socket-drop`
 *
 * Runs the nemesis suite: each run gets its own NATS cluster, nodes,
 * gateways and clients, a fault schedule drawn from its seed (seed, seed+1,
 * … for later runs), and a check of its whole history. Writes each run's
 * history to `.data/chaos/<seed>.json` for later inspection. Exits 1 if any
 * run had a violation.
 */
import { parseArgs } from "node:util";
import { formatAvailability } from "./availability";
import { FAULT_KINDS, type FaultKind } from "./faults";
import { formatRun, mergeAvailability, saveRun } from "./report";
import type { Shape } from "./processes";
import { runOnce, type RunResult } from "./run-once";

function options() {
  const { values } = parseArgs({
    options: {
      seed: { type: "string", default: String(Date.now() % 100_000) },
      runs: { type: "string", default: "1" },
      duration: { type: "string", default: "60" },
      faults: { type: "string", default: FAULT_KINDS.join(",") },
      clients: { type: "string", default: "50" },
      rooms: { type: "string", default: "10" },
      cycle: { type: "boolean", default: false },
      shape: { type: "string", default: "split" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "npm run chaos -- [--seed N] [--runs N] [--duration S] [--faults a,b] [--cycle] [--clients N] [--rooms N] [--shape split|co-located]",
    );
    console.log(`fault kinds: ${FAULT_KINDS.join(", ")}`);
    process.exit(0);
  }
  const kinds = values.faults.split(",").map((k) => k.trim());
  const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k as FaultKind));
  if (unknown.length > 0) throw new Error(`unknown fault kinds: ${unknown.join(", ")}`);
  if (values.shape !== "split" && values.shape !== "co-located")
    throw new Error("--shape must be split or co-located");
  return {
    shape: values.shape as Shape,
    seed: positive(values.seed, "seed"),
    runs: positive(values.runs, "runs"),
    loadMs: positive(values.duration, "duration") * 1000,
    kinds: kinds as FaultKind[],
    cycle: values.cycle,
    clients: positive(values.clients, "clients"),
    rooms: positive(values.rooms, "rooms"),
  };
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
}

async function main(): Promise<number> {
  const opts = options();
  const results: RunResult[] = [];
  for (let run = 0; run < opts.runs; run++) {
    const seed = opts.seed + run;
    console.log(`\n=== run ${run + 1}/${opts.runs}, seed ${seed} ===`);
    const result = await runOnce({
      seed,
      shape: opts.shape,
      loadMs: opts.loadMs,
      kinds: opts.kinds,
      cycle: opts.cycle,
      clients: opts.clients,
      rooms: opts.rooms,
      log: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
    });
    results.push(result);
    console.log(formatRun(result));
    console.log(`history: ${await saveRun(result)}`);
  }
  console.log(`\n=== ${results.length} runs, ${new Date().toISOString().slice(0, 10)} ===`);
  console.log(formatAvailability(mergeAvailability(results.map((r) => r.report.availability))));
  const failed = results.filter((r) => r.report.violations.length > 0);
  for (const r of failed) {
    console.log(`seed ${r.history.seed}: ${r.report.violations.length} violations`);
  }
  return failed.length > 0 ? 1 : 0;
}

process.exit(await main());
