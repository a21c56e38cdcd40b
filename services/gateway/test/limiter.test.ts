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
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSec);
  }
}

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

  it("limiter - answers as the bucket object did, take after take", () => {
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
            expect(wait).toBe(bucket.take(now));
            if (wait === 0) full = TokenBucket.take(full, now, limit);
          }
        },
      ),
    );
  });
});
