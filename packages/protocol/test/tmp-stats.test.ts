import fc from "fast-check";
import { it } from "vitest";
import { decoders } from "./fixtures";
import * as F from "./fuzz-arbs";
it("stats", () => {
  for (const [name, arb] of Object.entries(F)) {
    const counts: Record<string, number> = {};
    for (const b of fc.sample(arb as fc.Arbitrary<Uint8Array>, 5000)) for (const d of decoders) { const r = d(b); const key = r.ok ? "ok" : r.error.code; counts[key] = (counts[key] ?? 0) + 1; }
    console.log(name, JSON.stringify(counts));
  }
});
