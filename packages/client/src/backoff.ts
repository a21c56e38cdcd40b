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
