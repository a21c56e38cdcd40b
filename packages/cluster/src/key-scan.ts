import type { KV } from "@nats-io/kv";

/** A key listing that stops itself after a time limit; see {@link scanKeys}. */
export interface KeyScan {
  /** The keys; ends early once the limit passed. */
  readonly keys: AsyncIterable<string> & { stop(): void };
  /** Whether the limit stopped the listing (it may then be incomplete). */
  timedOut(): boolean;
  /** Clears the limit's timer: call when done with the keys. */
  done(): void;
}

/**
 * A bounded `kv.keys(filter)`: nats.js's key listing can miss the first
 * messages of its push consumer and then wait for an idle heartbeat (seen:
 * 30 s), holding up whatever awaits it (a handover, a stop). Past
 * `limitMs` the listing is stopped and `timedOut()` turns true.
 */
export async function scanKeys(kv: KV, filter: string, limitMs: number): Promise<KeyScan> {
  const keys = await kv.keys(filter);
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    keys.stop();
  }, limitMs);
  return { keys, timedOut: () => late, done: () => clearTimeout(timer) };
}
