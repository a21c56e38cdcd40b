import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { defaultClientOptions, resolveClientOptions } from "@rookery/client";

describe("client options", () => {
  test("options - defaults of the input timeout and the frozen-gateway detection", () => {
    const defaults = defaultClientOptions();
    expect(defaults.inputTimeoutMs).toBe(60_000);
    expect(defaults.ackDeadlineMs).toBe(1500);
    expect(defaults.pingDeadlineMs).toBe(1000);
    // A frozen gateway is noticed within about ackDeadlineMs + pingDeadlineMs of a send.
    expect(defaults.ackDeadlineMs + defaults.pingDeadlineMs).toBeLessThanOrEqual(2500);
  });

  test("options - given values win, undefined ones take the default", () => {
    const resolved = resolveClientOptions({
      token: "t",
      url: "ws://x",
      inputTimeoutMs: 5000,
      ackDeadlineMs: undefined,
      pingDeadlineMs: 200,
    });
    expect(resolved.inputTimeoutMs).toBe(5000);
    expect(resolved.ackDeadlineMs).toBe(1500);
    expect(resolved.pingDeadlineMs).toBe(200);
    expect(resolved.maxQueuedInputs).toBe(1000);
  });

  test("options - every default is documented with its value", () => {
    const text = readFileSync(new URL("../src/options.ts", import.meta.url), "utf8");
    for (const [name, value] of Object.entries(defaultClientOptions())) {
      if (typeof value !== "number") continue;
      const doc = new RegExp(`@default ${value}\\b[^*]*\\*/\\s*${name}\\?:`);
      expect(text, `${name} documents @default ${value}`).toMatch(doc);
    }
  });
});
