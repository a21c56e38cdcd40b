import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember } from "@rookery/cluster";
import { encodeRecord } from "@rookery/cluster/internal";
import { spawnChild, startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";

const bin = new URL("../bin/rookery.js", import.meta.url).pathname;
const run = promisify(execFile);

describe("rookery cli", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const prefix = testNamespace("cli operator views");
  const members: ClusterMember[] = [];
  const rookery = async (...args: string[]) => {
    const { stdout } = await run("node", [
      bin,
      "--server",
      server.url,
      "--prefix",
      prefix,
      ...args,
    ]);
    return stdout;
  };

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    for (const [id, role] of [
      ["node-1", "node"],
      ["gw-1", "gateway"],
    ] as const) {
      const m = new ClusterMember(nc, {
        identity: { id, role, region: "eu", url: `ws://${id}` },
        cluster: { prefix },
      });
      await m.start();
      members.push(m);
    }
    const lease = await members[0]!.leases.acquire("chess", "g1");
    expect(lease.acquired).toBe(true);
    await members[0]!.buckets.presence.put(
      "chess.g1.alice",
      encodeRecord({
        member: "alice",
        user: "alice",
        name: "Alice",
        gateway: "gw-1",
        gatewayEpoch: "e",
        conn: "c",
        joinedAt: 1,
        leader: true,
      }),
    );
  });
  afterAll(async () => {
    for (const m of members) await m.stop();
    await nc?.close();
    await server?.stop();
  });

  test("cli - nodes lists live processes with role, region and age", async () => {
    const json = JSON.parse(await rookery("nodes", "--json"));
    const ids = json.processes.map((p: { id: string; role: string }) => `${p.role}:${p.id}`);
    expect(ids).toEqual(["gateway:gw-1", "node:node-1"]);
    expect(json.processes[0]).toMatchObject({ region: "eu", url: "ws://gw-1" });
    const text = await rookery("nodes");
    expect(text).toMatch(/ID\s+ROLE\s+REGION\s+LOAD\s+AGE/);
    expect(text).toMatch(/node-1\s+node\s+eu/);
  });

  test("cli - leases filters by node and presence lists a room's members", async () => {
    const leases = JSON.parse(await rookery("leases", "--node", "node-1", "--json")).leases;
    expect(leases).toEqual([
      expect.objectContaining({ room: "chess/g1", owner: "node-1", roomEpoch: 1, state: "held" }),
    ]);
    expect(JSON.parse(await rookery("leases", "--node", "nobody", "--json")).leases).toEqual([]);
    const presence = JSON.parse(await rookery("presence", "chess/g1", "--json"));
    expect(presence).toMatchObject({ count: 1, members: [{ member: "alice", leader: true }] });
  });

  test("cli - watch tails a bucket with decoded values", async () => {
    const child = await spawnChild({
      script: bin,
      args: ["--server", server.url, "--prefix", prefix, "watch", "leases", "--json"],
    });
    try {
      await child.waitForLine(/"key":"chess.g1"/, 10_000);
      await members[0]!.leases.acquire("queue", "q9");
      const line = await child.waitForLine(/"key":"queue.q9"/, 10_000);
      expect(JSON.parse(line)).toMatchObject({
        op: "PUT",
        value: { owner: "node-1", roomEpoch: 1 },
      });
    } finally {
      await child.kill("SIGTERM");
    }
  });

  test("cli - bad usage and missing buckets fail with a clear message", async () => {
    await expect(rookery("watch", "nope")).rejects.toMatchObject({ code: 2 });
    const missing = run("node", [bin, "--server", server.url, "--prefix", "nothing_here", "nodes"]);
    await expect(missing).rejects.toMatchObject({
      stderr: expect.stringMatching(/bucket nothing_here_nodes not found/),
    });
  });
});
