import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster, testNamespace, until, type NatsCluster } from "@rookery/testkit";
import { Members, TTL_MS } from "./helpers";

describe("broker loss", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    cluster = await startNatsCluster(3);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  test("cluster - membership, leases and the singleton survive losing one of three servers", async () => {
    const prefix = testNamespace("cluster broker loss");
    // Each member prefers a different server, so one of them loses its server.
    const rotate = (i: number) => [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)];
    const groups = [0, 1, 2].map((i) => new Members(rotate(i), prefix));
    try {
      // One single-replica heartbeat bucket per server: liveness never waits on a raft election.
      const options = { replicas: 3, heartbeatTags: cluster.tags };
      const nodes = await Promise.all(groups.map((g, i) => g.start(`n${i}`, "node", options)));
      expect(nodes[0]!.buckets.nodes).toHaveLength(3);
      const held = await nodes[0]!.leases.acquire("chess", "before");
      if (!held.acquired) throw new Error("could not acquire");
      await until(() => nodes.every((n) => n.view.list("node").length === 3), 5000, "all see all");
      await until(() => nodes.filter((n) => n.sweeper.isHolder).length === 1, 5000, "one sweeper");
      const downs: string[] = [];
      const failStops: string[] = [];
      for (const n of nodes) {
        n.view.on("down", (p) => downs.push(p.id));
        n.heartbeat.on("failstop", (reason) => failStops.push(`${n.heartbeat.id}:${reason}`));
      }

      // Kill the server leading the leases stream (whose election stalls lease
      // writes for seconds), which also hosts one of the three heartbeat buckets.
      const jsm = await jetstreamManager(nodes[0]!.nc);
      const info = await jsm.streams.info(`KV_${nodes[0]!.buckets.names.leasesBucket}`);
      const leader = cluster.servers.find((s) => s.name === info.cluster?.leader);
      if (!leader) throw new Error(`no server named ${info.cluster?.leader}`);
      await leader.kill();

      // New leases can be taken once the leases stream elected a new leader
      // (5-14 s on nats-server 2.9), and existing ones are respected.
      await until(
        async () => (await nodes[1]!.leases.acquire("chess", "after")).acquired,
        20_000,
        "new lease",
      );
      expect(failStops).toEqual([]);
      const stolen = await nodes[2]!.leases.acquire("chess", "before");
      expect(stolen.acquired).toBe(false);
      // Heartbeats keep flowing: after two more TTLs all three are still live to everyone.
      const watchUntil = performance.now() + 2 * TTL_MS;
      await until(() => performance.now() > watchUntil, 3 * TTL_MS, "two TTLs pass");
      for (const n of nodes)
        expect(
          n.view
            .list("node")
            .map((p) => p.id)
            .sort(),
        ).toEqual(["n0", "n1", "n2"]);
      expect(downs).toEqual([]);
      expect(failStops).toEqual([]);
      expect(nodes.filter((n) => n.sweeper.isHolder)).toHaveLength(1);
    } finally {
      await Promise.all(groups.map((g) => g.close()));
    }
  });
});
