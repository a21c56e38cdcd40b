import { HttpPath, type DiscoverResponse } from "@rookery/protocol";
import { DiscoveryError } from "./errors";

/**
 * Asks the bootstrap gateways, in turn, which gateway to use
 * (docs/protocol.md §13); the first answer wins. `exclude` names gateways
 * to skip (the one that just failed or is draining).
 */
export async function discover(
  bootstrap: readonly string[],
  region: string | undefined,
  exclude: readonly string[],
  timeoutMs: number,
): Promise<DiscoverResponse> {
  const failures: string[] = [];
  for (const base of rotate(bootstrap)) {
    const url = new URL(HttpPath.Discover, base);
    if (region) url.searchParams.set("region", region);
    if (exclude.length > 0) url.searchParams.set("exclude", exclude.join(","));
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.ok) return (await res.json()) as DiscoverResponse;
      failures.push(`${base}: HTTP ${res.status}`);
    } catch (error) {
      failures.push(`${base}: ${(error as Error).message}`);
    }
  }
  throw new DiscoveryError(`no gateway found (${failures.join("; ") || "no bootstrap URL"})`);
}

/** Starts at a random bootstrap URL, so clients spread their discovery requests. */
function rotate(urls: readonly string[]): string[] {
  const start = Math.floor(Math.random() * urls.length);
  return [...urls.slice(start), ...urls.slice(0, start)];
}
