/**
 * Reconnect delay with exponential backoff and full jitter (a random delay
 * between 0 and min(cap, base * 2^attempt)), so that clients dropped together
 * do not come back together.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random,
): number {
  const bound = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * bound);
}

/**
 * At most one pending retry per key, each after a full-jitter backoff that
 * grows with the key's consecutive retries until `reset`.
 */
export class RetryTimers<K> {
  readonly #timers = new Map<K, ReturnType<typeof setTimeout>>();
  readonly #attempts = new Map<K, number>();

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
  ) {}

  has(key: K): boolean {
    return this.#timers.has(key);
  }

  /** Runs `retry` after the key's next delay, unless a retry of the key is pending already. */
  schedule(key: K, retry: () => void): void {
    if (this.#timers.has(key)) return;
    const attempt = this.#attempts.get(key) ?? 0;
    this.#attempts.set(key, attempt + 1);
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        retry();
      },
      backoffDelay(attempt, this.baseMs, this.capMs),
    );
    this.#timers.set(key, timer);
  }

  /** The key succeeded: its next retry starts from the base delay again. */
  reset(key: K): void {
    this.#attempts.delete(key);
  }

  cancel(key: K): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#attempts.delete(key);
  }

  cancelAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#attempts.clear();
  }
}
