import { describe, expect, test } from "vitest";
import { purgeIsSafe } from "../src/nats/nats-room-storage";
import { lookup, record } from "../src/dedupe";

describe("dedupe window", () => {
  test("dedupe - outcomes are kept for the last `size` seqs; older ones are forgotten, never duplicates", () => {
    let w = record(undefined, 1, { ok: true, result: { id: "item-1" } }, 3);
    w = record(w, 2, { ok: false, code: "INPUT_REJECTED", message: "no" }, 3);
    w = record(w, 5, { ok: true }, 3);
    expect(lookup(w, 1)).toEqual({ kind: "seen", outcome: { ok: true, result: { id: "item-1" } } });
    expect(lookup(w, 2)).toEqual({
      kind: "seen",
      outcome: { ok: false, code: "INPUT_REJECTED", message: "no" },
    });
    // Never processed, though below a processed seq: new.
    expect(lookup(w, 4)).toEqual({ kind: "new" });
    w = record(w, 4, { ok: true }, 3);
    // 1 left the window: forgotten, not answered as a duplicate.
    expect(lookup(w, 1)).toEqual({ kind: "expired" });
    expect(lookup(w, 3)).toEqual({ kind: "new" });
    w = record(w, 6, { ok: true }, 3);
    expect(lookup(w, 2)).toEqual({ kind: "expired" });
    // Above the floor (2) and never processed: still new.
    expect(lookup(w, 3)).toEqual({ kind: "new" });
    expect(lookup(w, 4)).toEqual({ kind: "seen", outcome: { ok: true } });
  });

  test("dedupe - a window is replaced, never edited (checkpoints hold the previous one)", () => {
    const before = record(undefined, 1, { ok: true }, 2);
    const after = record(before, 2, { ok: true }, 2);
    expect(before.s).toEqual([1]);
    expect(after.s).toEqual([1, 2]);
  });

  test("dedupe - a snapshot from before the window (highest seq only) reads as a floor", () => {
    expect(lookup(7, 7)).toEqual({ kind: "expired" });
    expect(lookup(7, 8)).toEqual({ kind: "new" });
    expect(record(7, 8, { ok: true }, 4)).toEqual({ f: 7, s: [8], o: [null] });
  });
});

describe("journal purge safety", () => {
  test("journal - purges are off on clustered nats-server before 2.9.18 (issue 4196), on elsewhere", () => {
    const clustered = (version: string) => ({ version, cluster: "c1" });
    expect(purgeIsSafe("auto", clustered("2.9.10"))).toBe(false);
    expect(purgeIsSafe("auto", clustered("2.9.17"))).toBe(false);
    expect(purgeIsSafe("auto", clustered("2.9.18"))).toBe(true);
    expect(purgeIsSafe("auto", clustered("2.10.4"))).toBe(true);
    expect(purgeIsSafe("auto", { version: "2.9.10" })).toBe(true);
    expect(purgeIsSafe("never", { version: "2.11.0" })).toBe(false);
    expect(purgeIsSafe("always", clustered("2.9.10"))).toBe(true);
  });
});
