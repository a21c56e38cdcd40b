import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ProcessRecord } from "@rookery/cluster";
import { encodeRecord } from "@rookery/cluster/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Members } from "./helpers";

describe("membership", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("membership - processes are seen up with role, region and url, and down on stop", async () => {
    const members = new Members(server.url, testNamespace("membership up and down"));
    try {
      const watcher = await members.start("watcher", "node");
      const downs: string[] = [];
      watcher.view.on("down", (p, reason) => downs.push(`${p.id}:${reason}`));
      const gw = await members.start("gw-1", "gateway", {}, { region: "eu" });
      await until(() => watcher.view.list("gateway").length === 1, 5000, "gateway seen");
      expect(watcher.view.list("gateway")[0]).toMatchObject({
        id: "gw-1",
        role: "gateway",
        region: "eu",
      });
      expect(watcher.view.isLive("gw-1", gw.heartbeat.epoch, "gateway")).toBe(true);
      await gw.stop();
      await until(() => downs.includes("gw-1:left"), 5000, "gateway left");
      expect(watcher.view.list("gateway")).toHaveLength(0);
    } finally {
      await members.close();
    }
  });

  test("membership - a restart under the same id is the old epoch down and a new one up", async () => {
    const members = new Members(server.url, testNamespace("membership restart same id"));
    try {
      const watcher = await members.start("watcher", "node");
      const events: string[] = [];
      watcher.view.on("up", (p) => events.push(`up:${p.id}:${p.epoch}`));
      watcher.view.on("down", (p, reason) => events.push(`down:${p.id}:${p.epoch}:${reason}`));
      const first = await members.start("n1", "node");
      const firstEpoch = first.heartbeat.epoch;
      await until(() => events.includes(`up:n1:${firstEpoch}`), 5000, "first up");
      // A crashed incarnation never deletes its key; the next one simply overwrites it.
      const second = await members.start("n1", "node");
      await until(() => events.includes(`up:n1:${second.heartbeat.epoch}`), 5000, "second up");
      expect(events).toContain(`down:n1:${firstEpoch}:replaced`);
      expect(watcher.view.isLive("n1", firstEpoch)).toBe(false);
      // The old incarnation finds its key taken and fail-stops as superseded.
      const reason = await new Promise((resolve) => first.heartbeat.once("failstop", resolve));
      expect(reason).toBe("superseded");
    } finally {
      await members.close();
    }
  });

  test("membership - corrupted and foreign values are reported and skipped", async () => {
    const members = new Members(server.url, testNamespace("membership corrupted values"));
    try {
      const watcher = await members.start("watcher", "node");
      const invalid: string[] = [];
      watcher.view.on("invalid", (key) => invalid.push(key));
      const nodes = watcher.buckets.nodes[0]!;
      await nodes.put("node.garbage", new Uint8Array([0xc1, 0xff, 0x00]));
      await nodes.put("node.foreign", new TextEncoder().encode(JSON.stringify({ id: "x" })));
      await nodes.put("gateway.half", encodeRecord({ id: "half", epoch: 7, role: "gateway" }));
      const ok: ProcessRecord = {
        id: "ok",
        epoch: "e1",
        role: "gateway",
        region: "r",
        url: "",
        load: 0,
        started: 1,
      };
      await nodes.put("gateway.ok", encodeRecord(ok));
      await until(
        () => watcher.view.list("gateway").some((p) => p.id === "ok"),
        5000,
        "valid entry seen",
      );
      await until(() => invalid.length === 3, 5000, "three invalid entries reported");
      expect(invalid.sort()).toEqual(["gateway.half", "node.foreign", "node.garbage"]);
      expect(
        watcher.view
          .list()
          .map((p) => p.id)
          .sort(),
      ).toEqual(["ok", "watcher"]);
      // A corrupted lease is overwritten by CAS, with an epoch above every earlier one.
      await watcher.buckets.leases.put("chess.broken", new Uint8Array([0x92, 0x01]));
      const result = await watcher.leases.acquire("chess", "broken");
      expect(result.acquired).toBe(true);
    } finally {
      await members.close();
    }
  });

  test("heartbeat - fail-stop while the broker is paused, then rejoin under a new epoch", async () => {
    const own = await startNatsServer();
    const members = new Members(own.url, testNamespace("heartbeat failstop broker paused"));
    try {
      const node = await members.start("n1", "node", {}, { sweeper: false });
      const oldEpoch = node.heartbeat.epoch;
      const lease = await node.leases.acquire("chess", "g1");
      expect(lease.acquired).toBe(true);
      const lost: string[] = [];
      node.leases.on("lost", (l, reason) => lost.push(`${l.key}:${reason}`));
      let failStopAt = 0;
      node.heartbeat.once("failstop", () => (failStopAt = performance.now()));
      const pausedAt = performance.now();
      own.pause();
      await until(() => failStopAt, 5000, "fail-stop");
      // Deadline = last successful send + TTL - margin: at most TTL - margin after the pause.
      const { heartbeatTtlMs, failStopMarginMs } = node.buckets.options;
      expect(failStopAt - pausedAt).toBeLessThanOrEqual(heartbeatTtlMs - failStopMarginMs + 100);
      expect(node.heartbeat.isAlive()).toBe(false);
      expect(lost, JSON.stringify(lost)).toEqual(["chess.g1:fail-stop: heartbeat-missed"]);
      own.resume();
      await until(() => node.heartbeat.isAlive(), 10_000, "rejoined");
      expect(node.heartbeat.epoch).not.toBe(oldEpoch);
    } finally {
      own.resume();
      await members.close();
      await own.stop();
    }
  });
});
