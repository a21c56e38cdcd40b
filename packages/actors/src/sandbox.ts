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
