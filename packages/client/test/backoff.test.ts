import { describe, expect, test } from "vitest";
import { resolveClientOptions } from "@rookery/client";
import { backoffDelay } from "@rookery/client/internal";

describe("client backoff", () => {
  test("backoff - full jitter between 0 and min(cap, base * 2^attempt)", () => {
    expect(backoffDelay(0, 250, 5000, () => 0.999)).toBe(249);
    expect(backoffDelay(3, 250, 5000, () => 0.5)).toBe(1000);
    expect(backoffDelay(10, 250, 5000, () => 0.999)).toBe(4995);
    expect(backoffDelay(10, 250, 5000, () => 0)).toBe(0);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4, 250, 5000)));
    expect(spread.size).toBeGreaterThan(10);
    for (const d of spread) expect(d).toBeLessThan(4000);
  });

  test("options - a token and a url or discovery URL are required; sessions are random", () => {
    expect(() => resolveClientOptions({ url: "ws://x" })).toThrow(/token/);
    expect(() => resolveClientOptions({ token: "t" })).toThrow(/url/);
    const a = resolveClientOptions({ token: "t", discoveryUrl: "http://gw" });
    const b = resolveClientOptions({ token: "t", discoveryUrl: "http://gw" });
    expect(a.discoveryUrl).toEqual(["http://gw"]);
    expect(a.session).toMatch(/^[A-Za-z0-9_-]{16,64}$/);
    expect(a.session).not.toBe(b.session);
  });
});
