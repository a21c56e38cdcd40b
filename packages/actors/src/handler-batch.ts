import { fallbackCount, HandlerTimeoutError, runWithBudget } from "./sandbox";

/**
 * One mailbox turn of one room. `run` decides and applies (pure computation:
 * the room core, no I/O) and sets `after` last, to what must happen once the
 * batch is over (replies, publishes, journal appends).
 */
export interface BatchJob {
  after: (() => void) | undefined;
  run(): void;
  /** `run` was cut off by the budget before it set `after`: undo what it began. */
  rollback(): void;
  /** `run` threw (a bug, not a rejection: those are its own business); what to answer. */
  failed(error: unknown): () => void;
}

/**
 * Runs the handlers of many rooms, under their time budget.
 *
 * Handlers of instrumented room modules (instrument.ts) carry their own
 * cooperative budget checks, so their jobs simply run one after the other:
 * no vm call, a few hundred nanoseconds per input. Handlers of room code that
 * was not instrumented need the vm timeout (sandbox.ts), and a budgeted call
 * costs a watchdog thread (about 0.1 ms, far more when the cores are busy),
 * which was half of a node's CPU per input. So once such a handler shows up
 * (the first runs in a vm call of its own), the rest of the turn, and the
 * next turn, run inside as few budgeted calls as they can: every request
 * that arrives in one turn of the event loop queues a job, and one microtask
 * runs them all. A call has a quarter of the handler budget and takes no new
 * job once it has run for an eighth, so only a job that alone runs long can
 * meet its limit. A turn that met no such handler runs the next one directly.
 *
 * When the limit cuts a call short, the job it was in is rolled back and
 * run once more on its own, outside the batch, where each of its handlers
 * has the whole budget: a runaway handler is then rejected as before (its
 * room keeps its previous state), having cost the node 1.25 budgets instead
 * of one. (A whole budget lost in the batch first would make a rejection take
 * longer than the router waits before it resends.) Jobs run, and their
 * `after`s follow, in submission order.
 */
export class HandlerBatch {
  #queue: BatchJob[] = [];
  #scheduled = false;
  /** Run jobs inside budgeted vm calls: a handler of uninstrumented code ran lately. */
  #vm = false;
  readonly #callMs: number;
  readonly #sliceMs: number;

  constructor(
    budgetMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.#callMs = budgetMs > 0 ? Math.max(1, Math.round(budgetMs / 4)) : 0;
    this.#sliceMs = budgetMs / 8;
  }

  submit(job: BatchJob): void {
    this.#queue.push(job);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const jobs = this.#queue;
    this.#queue = [];
    const fallbacks = fallbackCount();
    const vm = this.#vm;
    let next = 0;
    while (next < jobs.length) {
      next = this.#vm ? this.#runSome(jobs, next) : this.#runDirect(jobs, next);
    }
    // Stay in vm calls only while uninstrumented handlers keep coming.
    if (vm && fallbackCount() === fallbacks) this.#vm = false;
    for (const job of jobs) {
      try {
        job.after?.();
      } catch (error) {
        this.onError(error);
      }
    }
  }

  /**
   * Runs jobs from `first` one by one, each handler under its own budget,
   * until one needed the vm fallback; returns the index of the first not done.
   */
  #runDirect(jobs: BatchJob[], first: number): number {
    const fallbacks = fallbackCount();
    let next = first;
    while (next < jobs.length) {
      this.#runAlone(jobs[next]!);
      next++;
      if (fallbackCount() !== fallbacks) {
        this.#vm = this.#callMs > 0;
        break;
      }
    }
    return next;
  }

  /** Runs jobs from `first` in one budgeted call; returns the index of the first not done. */
  #runSome(jobs: BatchJob[], first: number): number {
    let next = first;
    try {
      runWithBudget(() => {
        const started = performance.now();
        do {
          jobs[next]!.run();
          next++;
        } while (next < jobs.length && performance.now() - started < this.#sliceMs);
      }, this.#callMs);
      return next;
    } catch (error) {
      const job = jobs[next];
      // Cut off after `run` finished (between two statements of the loop): it is done.
      if (job === undefined || job.after !== undefined) return next + 1;
      job.rollback();
      if (error instanceof HandlerTimeoutError) this.#runAlone(job);
      else job.after = job.failed(error);
      return next + 1;
    }
  }

  #runAlone(job: BatchJob): void {
    try {
      job.run();
    } catch (error) {
      job.rollback();
      job.after = job.failed(error);
    }
  }
}
