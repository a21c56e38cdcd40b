import vm from "node:vm";

/** A handler ran past its time budget and was interrupted (its room keeps its previous state). */
export class HandlerTimeoutError extends Error {
  readonly code = "HANDLER_TIMEOUT";
  override readonly name = "HandlerTimeoutError";
  constructor(
    readonly budgetMs: number,
    options?: ErrorOptions,
  ) {
    super(`room handler ran longer than ${budgetMs} ms and was interrupted`, options);
  }
}

const context = vm.createContext({ job: undefined as (() => unknown) | undefined });
const script = new vm.Script("job()");
/** True while a budgeted call runs: calls nested in it share its budget (see HandlerBatch). */
let inside = false;

/**
 * Runs a synchronous room handler with a time budget. JavaScript cannot
 * preempt a busy loop, but V8 can terminate a script running in a vm context:
 * wrapping the call there lets one runaway handler cost its room an input,
 * not the whole node its heartbeat. Costs about 0.1 ms per call (Node starts
 * a watchdog thread for each), so the node runs many handlers in one call
 * (HandlerBatch); a call made inside another runs directly, under the outer
 * budget. A budget of 0 runs the handler directly.
 *
 * The fallback for room code that was not instrumented: see {@link runHandler}.
 */
export function runWithBudget<T>(fn: () => T, budgetMs: number): T {
  if (budgetMs <= 0 || inside) return fn();
  context.job = fn;
  inside = true;
  try {
    return script.runInContext(context, { timeout: budgetMs }) as T;
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") {
      throw new HandlerTimeoutError(budgetMs, { cause: err });
    }
    throw err;
  } finally {
    inside = false;
    context.job = undefined;
  }
}

// ---------------------------------------------------------------------------
// Cooperative budget: checks compiled into room code (instrument.ts).
// ---------------------------------------------------------------------------

/** Functions of room definitions made by instrumented code (their `defineRoom` calls). */
const instrumentedFunctions = new WeakSet<object>();
/** Each definition's mechanism, decided at its first handler call. */
const classified = new WeakMap<object, boolean>();

/**
 * Checks between two clock reads (a read costs about 60 ns, a check about
 * 1 ns): adapted per handler between these bounds, aiming at one read per
 * `readEveryMs`. The upper bound caps the overshoot of a loop whose
 * iterations suddenly get much slower.
 */
const MIN_STRIDE = 1;
const MAX_STRIDE = 1024;
/** Checks before a handler's first clock read. */
const FIRST_STRIDE = 8;

/** A cooperative budget is armed: checks count down and read the clock. */
let armed = false;
/** The armed handler is past its deadline: every later check throws this again. */
let expired: HandlerTimeoutError | undefined;
let deadline = Infinity;
let armedBudgetMs = 0;
/**
 * What instrumented code reads: `n` counts down the checks left before the
 * next clock read, and `slow` is called when it goes below zero (it reads the
 * clock, and throws past the deadline). One object per process: instrumented
 * modules bind it once. (Should a second copy of this module load, its
 * `isInstrumented` knows no definition, so its rooms get the vm timeout.)
 */
export interface BudgetCounter {
  n: number;
  slow(): void;
  mark<T>(definition: T): T;
}
export const BUDGET_COUNTER = Symbol.for("rookery.budget");
const counter: BudgetCounter = ((globalThis as { [BUDGET_COUNTER]?: BudgetCounter })[
  BUDGET_COUNTER
] ??= { n: MAX_STRIDE, slow: slowCheck, mark: markInstrumented });
let stride = MIN_STRIDE;
let lastRead = 0;
/** Clock read between two checks: a fraction of the budget, so a slow loop body overshoots little. */
let readEveryMs = 1;
/** Handlers run under the vm fallback (room code that was not instrumented). */
let fallbacks = 0;

/**
 * The check compiled into every loop body and function body of room code.
 * Costs a decrement and a compare; reads the clock only every `stride`
 * checks. Once the running handler's deadline has passed it throws
 * {@link HandlerTimeoutError}, and throws again at every later check, so a
 * handler that catches it cannot go on looping (or recursing).
 */
export function budgetCheck(): void {
  if (--counter.n < 0) counter.slow();
}

function slowCheck(): void {
  if (!armed) {
    counter.n = MAX_STRIDE;
    return;
  }
  const now = performance.now();
  if (expired !== undefined || now >= deadline) {
    // One error, thrown again by every later check: cheap even for a deep
    // recursion that catches and recurses again at every level.
    expired ??= new HandlerTimeoutError(armedBudgetMs);
    counter.n = 0;
    throw expired;
  }
  // Aim at one clock read every `readEveryMs`: cheap in a tight loop, prompt in a slow one.
  const since = now - lastRead;
  lastRead = now;
  if (since < readEveryMs / 2) stride = Math.min(stride * 2, MAX_STRIDE);
  else if (since > readEveryMs) stride = Math.max(stride >> 1, MIN_STRIDE);
  counter.n = stride;
}

/**
 * Runs a handler whose code was instrumented, under a cooperative budget:
 * its checks throw once `budgetMs` has passed, and a handler that returns
 * (or throws something else) after its deadline is treated as timed out as
 * well, so the caller rolls back and rejects exactly as for the vm timeout.
 * A call nested in another budgeted call (or made inside a vm budget) runs
 * under the outer one.
 */
export function runCooperative<T>(fn: () => T, budgetMs: number): T {
  if (budgetMs <= 0 || armed || inside) return fn();
  const now = performance.now();
  const end = now + budgetMs;
  armed = true;
  expired = undefined;
  armedBudgetMs = budgetMs;
  deadline = end;
  lastRead = now;
  readEveryMs = Math.min(1, budgetMs / 64);
  stride = FIRST_STRIDE;
  counter.n = FIRST_STRIDE;
  try {
    const result = fn();
    // Past its deadline without meeting a check (or after swallowing one): timed out all the same.
    if (expired !== undefined || performance.now() >= end) throw new HandlerTimeoutError(budgetMs);
    return result;
  } catch (err) {
    const late = expired !== undefined || performance.now() >= end;
    if (err instanceof HandlerTimeoutError || !late) throw err;
    throw new HandlerTimeoutError(budgetMs, { cause: err });
  } finally {
    armed = false;
    expired = undefined;
    deadline = Infinity;
    counter.n = MAX_STRIDE;
  }
}

/**
 * Called by instrumented code on what its `defineRoom` calls return: records
 * the definition's functions as carrying budget checks. Returns it.
 */
export function markInstrumented<T>(definition: T): T {
  for (const fn of functionsOf(definition)) instrumentedFunctions.add(fn);
  return definition;
}

/**
 * Whether every function of a definition (handlers, guards, filters, leader
 * policy) came from a definition made by instrumented code: then its handlers
 * carry budget checks and run without the vm timeout. A copy that keeps the
 * functions (`{ ...room, type: "other" }`) qualifies; a definition with any
 * other function (written inline, loaded before the hooks, or not made with
 * `defineRoom`) gets the vm timeout. Decided once per definition.
 */
export function isInstrumented(definition: object): boolean {
  let known = classified.get(definition);
  if (known === undefined) {
    const fns = functionsOf(definition);
    known = fns.length > 0 && fns.every((fn) => instrumentedFunctions.has(fn));
    classified.set(definition, known);
  }
  return known;
}

function functionsOf(definition: unknown): object[] {
  if (typeof definition !== "object" || definition === null) return [];
  const fns: object[] = [];
  const collect = (o: unknown) => {
    if (typeof o !== "object" || o === null) return;
    for (const v of Object.values(o)) if (typeof v === "function") fns.push(v as object);
  };
  collect(definition);
  const d = definition as { onMessage?: unknown; validate?: unknown };
  collect(d.onMessage);
  // A message entry `{ body, handle }` keeps its functions one level down.
  for (const entry of Object.values(d.onMessage ?? {})) collect(entry);
  collect(d.validate);
  return fns;
}

/**
 * Runs one handler of a room type under the time budget, by the cheapest
 * mechanism that still interrupts it: the cooperative checks when the room
 * module was instrumented, else the vm timeout ({@link runWithBudget}).
 */
export function runHandler<T>(definition: object, fn: () => T, budgetMs: number): T {
  if (isInstrumented(definition)) return runCooperative(fn, budgetMs);
  if (budgetMs > 0) fallbacks++;
  return runWithBudget(fn, budgetMs);
}

/** How many handler calls have needed the vm fallback so far (HandlerBatch watches it). */
export function fallbackCount(): number {
  return fallbacks;
}
