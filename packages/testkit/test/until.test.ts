import { describe, expect, test } from "vitest";
import { testNamespace, until, UntilTimeoutError } from "../src/index";

describe("testkit - until", () => {
  test("testkit - until returns the first truthy value, treating throws as not yet", async () => {
    let calls = 0;
    const value = await until(
      () => {
        calls++;
        if (calls === 1) throw new Error("not ready");
        return calls >= 3 ? { calls } : null;
      },
      2_000,
      "third call",
    );
    expect(value).toEqual({ calls: 3 });
  });

  test("testkit - until times out naming the condition and the last value", async () => {
    const error = await until(() => 0, 100, "never truthy").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UntilTimeoutError);
    expect((error as UntilTimeoutError).code).toBe("UNTIL_TIMEOUT");
    expect(String(error)).toMatch(/"never truthy".*100 ms.*last value: 0/);
  });

  test("testkit - until times out with the last error as cause", async () => {
    const boom = new Error("still booting");
    const error = await until(() => Promise.reject(boom), 100, "server booted").catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain("last error: Error: still booting");
    expect((error as Error).cause).toBe(boom);
  });

  test("testkit - until does not wait past its timeout for a hung call", async () => {
    const started = Date.now();
    const hung = until(() => new Promise<boolean>(() => {}), 100, "hung call");
    await expect(hung).rejects.toBeInstanceOf(UntilTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe("testkit - testNamespace", () => {
  test("testkit - testNamespace is stable, short and subject safe", () => {
    const title = "Lease takeover after owner dies! (3 nodes)";
    const ns = testNamespace(title);
    expect(ns).toBe(testNamespace(title));
    expect(ns).toMatch(/^[a-z0-9_]+$/);
    expect(ns).toMatch(/^lease_takeover_after_owner_dies_[0-9a-f]{4}$/);
    expect(testNamespace("a".repeat(200)).length).toBeLessThanOrEqual(37);
    expect(testNamespace("same prefix long title ... variant one")).not.toBe(
      testNamespace("same prefix long title ... variant two"),
    );
    expect(testNamespace("!!!")).toMatch(/^ns_[0-9a-f]{4}$/);
  });
});
