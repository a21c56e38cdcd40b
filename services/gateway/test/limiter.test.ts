import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenBucket } from "../src/limiter";

/** The bucket as an object (tokens and last refill), as the gateway kept it before. */
class ObjectBucket {
  #tokens: number;
  #at: number;
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#at = now;
  }
  take(now: number): number {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) * this.ratePerSec) / 1000);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.shortMs = 0;
      return 0;
    }
    this.shortMs = ((1 - this.#tokens) * 1000) / this.ratePerSec;
    return Math.ceil(this.shortMs);
  }
  /** The last wait before rounding up (ms). */
  shortMs = 0;
}

/** The one-number bucket counts a token as there within this much of it (limiter.ts). */
const ROUNDING_MS = 1e-6;

describe("TokenBucket", () => {
  it("limiter - a burst of `burst` frames at once passes, the next waits one interval", () => {
    const limit = { ratePerSec: 10, burst: 5 };
    let full: number = TokenBucket.FULL;
    for (let i = 0; i < 5; i++) {
      expect(TokenBucket.wait(full, 1000, limit)).toBe(0);
      full = TokenBucket.take(full, 1000, limit);
    }
    expect(TokenBucket.wait(full, 1000, limit)).toBe(100);
    expect(TokenBucket.wait(full, 1100, limit)).toBe(0);
  });

  // The one-number bucket rounds in the client's favour when a token is
  // within a nanosecond (float error of summed intervals): there, and only
  // there, it may answer 1 ms sooner, and the two buckets part ways.
  it("limiter - answers as the bucket object did, take after take (but within a nanosecond of a token)", () => {
    const take = fc.record({
      gapMs: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(take, { maxLength: 300 }),
        (ratePerSec, burst, takes) => {
          const limit = { ratePerSec, burst };
          let now = 1000;
          const bucket = new ObjectBucket(ratePerSec, burst, now);
          let full: number = TokenBucket.FULL;
          for (const { gapMs } of takes) {
            now += gapMs;
            const wait = TokenBucket.wait(full, now, limit);
            const expected = bucket.take(now);
            if (wait !== expected) {
              expect(expected - wait).toBe(1);
              expect(bucket.shortMs - Math.floor(bucket.shortMs)).toBeLessThanOrEqual(
                ROUNDING_MS * 1.01,
              );
              return;
            }
            if (wait === 0) full = TokenBucket.take(full, now, limit);
          }
        },
      ),
      // The case that found the nanosecond: 901 ms by the object, 900 by the number.
      { examples: [[1, 1, [{ gapMs: 0 }, { gapMs: 99.999999 }]]] },
    );
  });
});
