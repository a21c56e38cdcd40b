/** Polling helper for eventually-true conditions in tests. */
import { inspect } from "node:util";
import { UntilTimeoutError } from "./errors";

const FIRST_DELAY_MS = 25;
const MAX_DELAY_MS = 50;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown } | { ok: "pending" };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One call of `fn`, bounded by `budgetMs` so a hung call cannot outlive the deadline. */
async function attempt<T>(fn: () => T | Promise<T>, budgetMs: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: "pending" }), budgetMs);
  });
  const run = (async (): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await fn() };
    } catch (error) {
      return { ok: false, error };
    }
  })();
  try {
    return await Promise.race([run, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(value: unknown): string {
  const text = inspect(value, { depth: 2, breakLength: Infinity });
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function describeLast(last: Outcome<unknown> | undefined): string {
  if (last === undefined || last.ok === "pending") return "the last call did not settle in time";
  if (last.ok) return `last value: ${describe(last.value)}`;
  const err = last.error;
  return `last error: ${err instanceof Error ? `${err.name}: ${err.message}` : describe(err)}`;
}

/**
 * Calls `fn` every 25-50 ms until it returns a truthy value and returns that value. A thrown
 * error or rejection counts as "not yet". After `timeoutMs` throws {@link UntilTimeoutError}
 * naming the condition and the last value or error seen.
 */
export async function until<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  name: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: Outcome<T> | undefined;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const outcome = await attempt(fn, Math.max(1, deadline - Date.now()));
    if (outcome.ok === true && outcome.value) return outcome.value as NonNullable<T>;
    if (outcome.ok !== "pending" || last === undefined) last = outcome;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      throw new UntilTimeoutError(
        `until "${name}" timed out after ${timeoutMs} ms; ${describeLast(last)}`,
        last.ok === false ? { cause: last.error } : undefined,
      );
    }
    await sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}
