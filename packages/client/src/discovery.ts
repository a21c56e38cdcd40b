import { HttpPath, type DiscoverResponse } from "@rookery/protocol";
import { DiscoveryError } from "./errors";

/** A bootstrap gateway silent this long gets company: the next one is asked as well. */
const HEDGE_MS = 300;

type Attempt<T> = (signal: AbortSignal) => Promise<T>;

/**
 * Asks the bootstrap gateways which gateway to use (docs/protocol.md §13);
 * the first answer wins. One that fails, or is slower than HEDGE_MS (a
 * frozen gateway accepts connections and never answers), does not hold up
 * the next. `exclude` names gateways to skip (the one that just failed or
 * is draining); `signal` abandons the whole attempt.
 */
export async function discover(
  bootstrap: readonly string[],
  region: string | undefined,
  exclude: readonly string[],
  timeoutMs: number,
  signal?: AbortSignal,
  room?: string,
): Promise<DiscoverResponse> {
  const attempts = rotate(bootstrap).map(
    (base): Attempt<DiscoverResponse> =>
      (abort) =>
        ask(base, discoverUrl(base, region, exclude, room), timeoutMs, abort),
  );
  try {
    return await firstSuccess(attempts, HEDGE_MS, signal);
  } catch (errors) {
    const failures = (errors as Error[]).map((e) => e.message).join("; ");
    throw new DiscoveryError(`no gateway found (${failures || "no bootstrap URL"})`);
  }
}

function discoverUrl(
  base: string,
  region: string | undefined,
  exclude: readonly string[],
  room: string | undefined,
): URL {
  const url = new URL(HttpPath.Discover, base);
  if (region) url.searchParams.set("region", region);
  if (room) url.searchParams.set("room", room);
  if (exclude.length > 0) url.searchParams.set("exclude", exclude.join(","));
  return url;
}

async function ask(
  base: string,
  url: URL,
  timeoutMs: number,
  abort: AbortSignal,
): Promise<DiscoverResponse> {
  try {
    const signal = AbortSignal.any([abort, AbortSignal.timeout(timeoutMs)]);
    const res = await fetch(url, { signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as DiscoverResponse;
  } catch (error) {
    throw new Error(`${base}: ${(error as Error).message}`);
  }
}

/**
 * Starts the attempts one by one, the next as soon as one fails or
 * `hedgeMs` after the last start; resolves with the first success (the
 * others are aborted), or rejects with every error once all failed.
 */
function firstSuccess<T>(
  attempts: Attempt<T>[],
  hedgeMs: number,
  outer: AbortSignal | undefined,
): Promise<T> {
  const losers = new AbortController();
  const signal = outer ? AbortSignal.any([outer, losers.signal]) : losers.signal;
  return new Promise<T>((resolve, reject) => {
    const errors: unknown[] = [];
    let started = 0;
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (settle: () => void): void => {
      settled = true;
      clearTimeout(timer);
      losers.abort();
      settle();
    };
    const failed = (error: unknown): void => {
      errors.push(error);
      if (settled) return;
      if (errors.length === attempts.length || signal.aborted) return finish(() => reject(errors));
      if (started === errors.length) startNext();
    };
    const startNext = (): void => {
      clearTimeout(timer);
      const attempt = attempts[started++];
      if (!attempt || settled) return;
      attempt(signal).then((value) => !settled && finish(() => resolve(value)), failed);
      if (started < attempts.length) timer = setTimeout(startNext, hedgeMs);
    };
    if (attempts.length === 0) return reject(errors);
    startNext();
  });
}

/** Starts at a random bootstrap URL, so clients spread their discovery requests. */
function rotate(urls: readonly string[]): string[] {
  const start = Math.floor(Math.random() * urls.length);
  return [...urls.slice(start), ...urls.slice(0, start)];
}
