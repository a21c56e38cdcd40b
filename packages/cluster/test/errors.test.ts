import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import * as cluster from "@rookery/cluster";
import { ClusterError, ClusterErrorCode, clusterErrorDescriptions } from "@rookery/cluster";

const docs = readFileSync(new URL("../../../docs/cluster.md", import.meta.url), "utf8");

describe("cluster errors", () => {
  test("errors - every code is unique, described and documented", () => {
    const codes = Object.values(ClusterErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(clusterErrorDescriptions[code], code).toBeTruthy();
      expect(docs, `docs/cluster.md mentions ${code}`).toContain(`\`${code}\``);
    }
  });

  test("errors - every error class has its own code and sets name", () => {
    type ErrorClass = (new (...args: string[]) => ClusterError) & { name: string };
    const classes = Object.values(cluster as Record<string, unknown>).filter(
      (v): v is ErrorClass =>
        typeof v === "function" && (v as { prototype: unknown }).prototype instanceof ClusterError,
    );
    const seen = new Map<string, string>();
    for (const Class of classes) {
      const probe = new Class("x", "y", "z");
      expect(probe.name).toBe(Class.name);
      expect(seen.has(probe.code), `${Class.name} reuses ${probe.code}`).toBe(false);
      seen.set(probe.code, Class.name);
      expect(Object.values(ClusterErrorCode)).toContain(probe.code);
    }
    expect(seen.size).toBe(Object.values(ClusterErrorCode).length);
  });
});
