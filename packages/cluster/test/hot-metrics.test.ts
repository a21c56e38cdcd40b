import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { HotCounter, HotHistogram } from "../src/internal";

/** The exposition of one metric, its name replaced so two registries can be compared. */
async function exposition(registry: Registry, name: string): Promise<string> {
  return (await registry.metrics()).replaceAll(name, "m");
}

describe("hot metrics", () => {
  it("hot metrics - a histogram's exposition is prom-client's for the same observations", async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const observations: [number, string][] = [
      [0.0005, "input"],
      [0.001, "input"],
      [0.05, "join"],
      [3, "input"],
      [0.2, "leave"],
      [0.01, "join"],
    ];
    const hotRegistry = new Registry();
    const hot = new HotHistogram("hot_seconds", "help text", buckets, "kind").register(hotRegistry);
    const promRegistry = new Registry();
    const prom = new Histogram({
      name: "prom_seconds",
      help: "help text",
      buckets,
      labelNames: ["kind"],
      registers: [promRegistry],
    });
    for (const [value, kind] of observations) {
      hot.observe(value, kind);
      prom.observe({ kind }, value);
    }
    expect(await exposition(hotRegistry, "hot_seconds")).toBe(
      await exposition(promRegistry, "prom_seconds"),
    );
  });

  it("hot metrics - an unlabelled histogram and a labelled counter match prom-client's", async () => {
    const hotRegistry = new Registry();
    const histogram = new HotHistogram("hot_h", "h", [1, 2]).register(hotRegistry);
    const counter = new HotCounter("hot_c_total", "c", "kind").register(hotRegistry);
    const promRegistry = new Registry();
    const promHistogram = new Histogram({
      name: "prom_h",
      help: "h",
      buckets: [1, 2],
      registers: [promRegistry],
    });
    const promCounter = new Counter({
      name: "prom_c_total",
      help: "c",
      labelNames: ["kind"],
      registers: [promRegistry],
    });
    for (const v of [0.5, 1.5, 2.5, 1]) {
      histogram.observe(v);
      promHistogram.observe(v);
    }
    counter.inc("input");
    counter.inc("input", 3);
    counter.inc("event", 10);
    promCounter.inc({ kind: "input" });
    promCounter.inc({ kind: "input" }, 3);
    promCounter.inc({ kind: "event" }, 10);
    const hot = (await hotRegistry.metrics()).replaceAll("hot_", "x_");
    const prom = (await promRegistry.metrics()).replaceAll("prom_", "x_");
    expect(hot).toBe(prom);
    expect(counter.value("input")).toBe(4);
  });

  it("hot metrics - a value that is not a finite number is not recorded", () => {
    const histogram = new HotHistogram("h", "h", [1]);
    histogram.observe(Number.NaN);
    histogram.observe(Number.POSITIVE_INFINITY);
    expect(histogram.get().values).toEqual([]);
  });
});
