import { describe, expect, test } from "vitest";
import { parse } from "acorn";
import { HandlerTimeoutError } from "@rookery/actors";
import {
  instrumentSource,
  isInstrumented,
  runCooperative,
  runHandler,
} from "@rookery/actors/internal";

/** Instruments `source` (module code that assigns `globalThis.sample`), evaluates it, returns `sample`. */
function load<T>(source: string): T {
  const { code } = instrumentSource(source);
  parse(code, { ecmaVersion: "latest", sourceType: "module" });
  const g = globalThis as { sample?: unknown };
  // Module code without imports or exports runs as a function body as well.
  new Function(code)();
  const sample = g.sample as T;
  delete g.sample;
  return sample;
}

const defineRoom = "const defineRoom = (d) => d;";

describe("instrument", () => {
  test("instrument - every loop body and function body gets a check, every defineRoom call a mark", () => {
    const source = `"use strict";
import { defineRoom } from "@rookery/actors";
export const room = defineRoom({ type: "a", onMessage: { f(ctx) { "use strict"
  for (;;) for (;;) x = () => ({ a: 1 });
  while (a) b++;
  do c(); while (0);
  for (const k in o) {}
  for (const v of o) {}
}, g: (x) => x * 2 } });
const other = (0, m.defineRoom)({});
label: for (let i = 0; i < 3; i++) { continue label; }
if (a) for (;;); else while (1);
`;
    const out = instrumentSource(source);
    expect(out).toMatchObject({ loops: 9, functions: 3, rooms: 2 });
    // Still valid, and on the same lines.
    parse(out.code, { ecmaVersion: "latest", sourceType: "module" });
    expect(out.code.split("\n").length).toBe(source.split("\n").length);
    expect(() => instrumentSource(out.code)).toThrow(/already instrumented/);
  });

  test("instrument - a runaway loop is cut off at its budget, and keeps being cut off if it catches", () => {
    const sample = load<Record<string, (ms: number) => unknown>>(`
      globalThis.sample = {
        spin(ms) { const until = Date.now() + ms; while (Date.now() < until) {} return "done"; },
        stubborn(ms) {
          const until = Date.now() + ms;
          let caught = 0;
          while (Date.now() < until) { try { for (;;) if (Date.now() >= until) break; } catch { caught++; } }
          return caught;
        },
        swallow(ms) { try { const until = Date.now() + ms; for (;;) if (Date.now() >= until) break; } catch {} return "swallowed"; },
        deep() { const f = (n) => { try { return f(n + 1) + 1; } catch { return f(n + 1); } }; return f(0); },
        callbacks(n) { let t = 0; Array.from({ length: n }, (_, i) => i).forEach(() => { for (let j = 0; j < 1000; j++) t += j; }); return t; },
      };`);
    // Unarmed (outside a handler), the checks never throw.
    expect(sample.spin!(30)).toBe("done");
    for (const name of ["spin", "stubborn", "swallow", "deep", "callbacks"]) {
      const started = performance.now();
      const arg = name === "callbacks" ? 1_000_000 : 5000;
      expect(() => runCooperative(() => sample[name]!(arg), 100), name).toThrow(
        HandlerTimeoutError,
      );
      expect(performance.now() - started, name).toBeLessThan(1000);
    }
    // Within its budget a handler runs normally.
    expect(runCooperative(() => sample.spin!(5), 1000)).toBe("done");
  });

  test("instrument - a handler past its deadline is timed out even with no check to meet", () => {
    const started = performance.now();
    expect(() =>
      runCooperative(() => {
        const until = Date.now() + 60;
        // Not instrumented (this test file): no check; the runtime checks on return.
        while (Date.now() < until);
        return 1;
      }, 20),
    ).toThrow(HandlerTimeoutError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("instrument - only definitions whose every function is instrumented skip the vm timeout", () => {
    const sample = load<Record<string, object>>(`${defineRoom}
      const room = defineRoom({ type: "r", initialState: () => ({}), onMessage: { spin(ctx, ms) { const u = Date.now() + ms; while (Date.now() < u) {} } } });
      const plain = { type: "p", initialState: () => ({}), onMessage: room.onMessage };
      globalThis.sample = { room, copy: { ...room, type: "c" }, plain };`);
    expect(isInstrumented(sample.room!)).toBe(true);
    expect(isInstrumented(sample.copy!)).toBe(true);
    expect(isInstrumented(sample.plain!)).toBe(false);
    const inline = { type: "i", initialState: () => ({}), onMessage: {} };
    expect(isInstrumented(inline)).toBe(false);
    // The plain one is still cut off: by the vm timeout.
    const started = performance.now();
    const { spin } = (sample.plain as { onMessage: { spin: (c: null, ms: number) => void } })
      .onMessage;
    expect(() => runHandler(sample.plain!, () => spin(null, 5000), 100)).toThrow(
      HandlerTimeoutError,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
