/**
 * Token bucket: holds at most `burst` tokens, refills `ratePerSec` a second.
 * One per connection, so a flood costs its sender and nobody else.
 */
export class TokenBucket {
  #tokens: number;
  #at = performance.now();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }

  /** Takes a token; returns 0, or the ms until one is available (nothing taken). */
  take(): number {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.ratePerSec) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSec);
  }
}

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
