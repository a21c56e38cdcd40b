/** The rate a connection's token bucket allows. */
export interface RateLimit {
  /** Tokens added a second. */
  readonly ratePerSec: number;
  /** Most tokens the bucket holds. */
  readonly burst: number;
}

/** A nanosecond: far below any interval between tokens, far above float rounding. */
const ROUNDING_MS = 1e-6;

/**
 * Token bucket: holds at most `burst` tokens, refills `ratePerSec` a second.
 * One per connection, so a flood costs its sender and nobody else. Its state
 * is one number, the time (performance.now() clock) at which the bucket is
 * full again (the generic cell rate algorithm), so that a connection holds a
 * number, not an object (memory per client). 0 is a full bucket.
 */
export const TokenBucket = {
  FULL: 0,

  /** ms until the bucket `full` (its full-again time) has a token at `now`; 0 if it has one. */
  wait(full: number, now: number, limit: RateLimit): number {
    const interval = 1000 / limit.ratePerSec;
    // Tokens missing at `now` are (full - now) / interval; a token is there while burst - missing >= 1.
    const short = Math.max(full, now) - now - (limit.burst - 1) * interval;
    // Within ROUNDING_MS, `short` is rounding of the summed intervals (a whole token is there).
    return short > ROUNDING_MS ? Math.ceil(short - ROUNDING_MS) : 0;
  },

  /** The bucket after taking a token at `now` (when `wait` said one is there). */
  take(full: number, now: number, limit: RateLimit): number {
    return Math.max(full, now) + 1000 / limit.ratePerSec;
  },
} as const;

/** Counts events in a sliding one-minute window (rejected frames, for the 4008 policy close). */
export class MinuteCounter {
  readonly #times: number[] = [];

  /** Records one event and returns how many happened in the last minute. */
  hit(now = performance.now()): number {
    this.#times.push(now);
    while (this.#times.length > 0 && this.#times[0]! <= now - 60_000) this.#times.shift();
    return this.#times.length;
  }
}

/**
 * Logs each distinct rejection once per window: a client sending garbage in a
 * loop must not turn the gateway's log into its amplifier.
 */
export class LogOnce {
  readonly #seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True the first time `key` is seen in the window (the caller logs then). */
  shouldLog(key: string, now = Date.now()): boolean {
    const last = this.#seen.get(key);
    if (last !== undefined && now - last < this.windowMs) return false;
    if (this.#seen.size >= 10_000) this.#evict(now);
    this.#seen.set(key, now);
    return true;
  }

  #evict(now: number): void {
    for (const [key, at] of this.#seen) if (now - at >= this.windowMs) this.#seen.delete(key);
    if (this.#seen.size >= 10_000) this.#seen.clear();
  }
}
