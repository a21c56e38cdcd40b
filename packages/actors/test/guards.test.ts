import {
  arrayOf,
  bool,
  defineRoom,
  int,
  isEmptyBody,
  isMap,
  num,
  oneOf,
  optional,
  shape,
  text,
} from "@rookery/actors";
import type { Value } from "@rookery/protocol";
import { describe, expect, expectTypeOf, it } from "vitest";

describe("body guards", () => {
  it("guards - isMap and isEmptyBody accept maps (and nil) only", () => {
    expect([{}, { a: 1 }].every(isMap)).toBe(true);
    expect([null, [], new Uint8Array(1), "x", 1].some(isMap)).toBe(false);
    expect([null, {}, { a: 1 }].every(isEmptyBody)).toBe(true);
    expect([[], "x", 0, false].some(isEmptyBody)).toBe(false);
  });

  it("guards - scalars check type and range", () => {
    expect([0, 8].every(int({ min: 0, max: 8 }))).toBe(true);
    expect([-1, 9, 1.5, "4", Number.NaN, null].some(int({ min: 0, max: 8 }))).toBe(false);
    expect(num({ max: 1 })(0.5)).toBe(true);
    expect([Infinity, 2, "1"].some(num({ max: 1 }))).toBe(false);
    expect(text({ min: 1, max: 2 })("🎵🎵")).toBe(true); // code points
    expect(["", "abc", 3].some(text({ min: 1, max: 2 }))).toBe(false);
    expect(text({ pattern: /^[a-h][1-8]$/ })("e9")).toBe(false);
    expect(bool(false) && !bool(0)).toBe(true);
    expect(oneOf("q", "r")("q") && !oneOf("q", "r")("k")).toBe(true);
    expect(arrayOf(int(), { max: 2 })([1, 2])).toBe(true);
    expect([[1, 2, 3], [1, "2"], {}].some(arrayOf(int(), { max: 2 }))).toBe(false);
  });

  it("guards - shape checks listed fields, optional ones may be absent or nil", () => {
    const move = shape({ from: text(), to: text(), promotion: optional(oneOf("q", "n")) });
    expect(move({ from: "e7", to: "e8" })).toBe(true);
    expect(move({ from: "e7", to: "e8", promotion: null, extra: 1 })).toBe(true);
    expect(move({ from: "e7", to: "e8", promotion: "k" })).toBe(false);
    expect([{ from: "e7" }, null, [], "e7e8"].some(move)).toBe(false);
    // Inherited properties are not fields.
    expect(shape({ toString: optional(int()) })({})).toBe(true);
    const body: unknown = { from: "a", to: "b" };
    if (move(body)) {
      expectTypeOf(body).toEqualTypeOf<
        { from: string; to: string } & { promotion?: "q" | "n" | null }
      >();
    }
  });

  it("guards - a shape is a room's validate entry, typed like the body", () => {
    type Messages = {
      move: { cell: number; note?: string | null };
      resign: { [k: string]: Value } | null;
    };
    const room = defineRoom<{ n: number }, Messages>({
      type: "g",
      initialState: () => ({ n: 0 }),
      onMessage: { move: (ctx, body) => void (ctx.state.n = body.cell), resign: () => undefined },
      validate: {
        move: shape({ cell: int({ min: 0, max: 8 }), note: optional(text({ max: 10 })) }),
        resign: isEmptyBody,
      },
    });
    expect(room.validate?.move?.({ cell: 3 })).toBe(true);
    expect(room.validate?.move?.({ cell: 3, note: 5 })).toBe(false);
  });
});
