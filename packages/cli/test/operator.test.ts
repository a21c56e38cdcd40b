/**
 * Issue 14: operators steer the cluster with `rookery rooms | drain | undrain
 * | move`, against two real node processes on a real nats-server.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { InternalKind } from "@rookery/protocol/internal";
import {
  spawnChild,
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { memberOf } from "../../../services/node/test/load";
import { startNode } from "../../../services/node/test/nodes";

const bin = new URL("../bin/rookery.js", import.meta.url).pathname;
const exec = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("rookery cli - operator commands on a live cluster", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let gateway: ClusterMember;
  let router: RoomRouter;
  const nodes: Record<string, ChildHandle> = {};
  const prefix = testNamespace("cli operator steering");

  const rookery = async (...args: string[]): Promise<Run> => {
    try {
      const { stdout, stderr } = await exec(
        "node",
        [bin, "--server", server.url, "--prefix", prefix, ...args],
        { env: { ...process.env, NATS_URL: "", NATS_CONTEXT: "" }, timeout: 60_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const json = async (...args: string[]) => {
    const run = await rookery(...args, "--json");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };
  const owners = async () => {
    const { leases } = (await json("leases")) as { leases: { room: string; owner: string }[] };
    return Object.fromEntries(leases.filter((l) => l.owner).map((l) => [l.room, l.owner]));
  };
  const joinRoom = (id: string, user: string) =>
    router.request("party", id, { k: InternalKind.Join, member: memberOf(gateway, user) });
  let seq = 0;
  const add = (id: string, user: string, title: string) =>
    router.request("party", id, {
      k: InternalKind.Input,
      member: memberOf(gateway, user).id,
      seq: ++seq,
      type: "add",
      body: { title },
    });

  beforeAll(async () => {
    server = await startNatsServer();
    nodes["op-a"] = await startNode(server.url, prefix, "op-a");
    nodes["op-b"] = await startNode(server.url, prefix, "op-b");
    nc = await connect({ servers: server.url });
    gateway = new ClusterMember(nc, {
      identity: { id: "gw-op", role: "gateway" },
      cluster: { prefix },
      sweeper: false,
    });
    await gateway.start();
    router = new RoomRouter(nc, { prefix });
    for (let i = 0; i < 6; i++) {
      expect((await joinRoom(`r${i}`, "ann")).k).toBe(InternalKind.Joined);
      if (i % 2 === 0) expect((await joinRoom(`r${i}`, "bob")).k).toBe(InternalKind.Joined);
    }
    expect((await add("r0", "ann", "Song A")).k).toBe(InternalKind.Acked);
  });
  afterAll(async () => {
    await gateway?.stop();
    await nc?.close();
    for (const child of Object.values(nodes)) await child.kill("SIGKILL");
    await server?.stop();
  });

  test("cli - rooms lists active rooms: owner, epoch, members, leader; ISO times in JSON, relative in tables", async () => {
    await until(
      async () => ((await json("rooms")).rooms as unknown[]).length === 6,
      10_000,
      "six rooms listed",
    );
    const { rooms } = (await json("rooms")) as {
      rooms: {
        room: string;
        owner: string;
        roomEpoch: number;
        leader: string;
        since: string;
        members: { member: string; joinedAt: string }[];
      }[];
    };
    const r0 = rooms.find((r) => r.room === "party/r0")!;
    expect(r0).toMatchObject({ roomEpoch: 1, leader: "ann" });
    expect(["op-a", "op-b"]).toContain(r0.owner);
    expect(r0.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r0.members.map((m) => m.member)).toEqual([
      "ann:session-ann-00000001",
      "bob:session-bob-00000001",
    ]);
    expect(r0.members[0]!.joinedAt).toMatch(/Z$/);
    expect(rooms.find((r) => r.room === "party/r1")!.members).toHaveLength(1);

    const table = (await rookery("rooms")).stdout;
    expect(table).toMatch(/ROOM\s+OWNER\s+EPOCH\s+MEMBERS\s+LEADER\s+AGE/);
    expect(table).toMatch(/party\/r0\s+op-[ab]\s+1\s+2\s+ann\s+\d+s/);
    expect(table).toContain("6 room(s)");
    const onA = (await json("rooms", "--node", "op-a")).rooms as { owner: string }[];
    expect(onA.every((r) => r.owner === "op-a")).toBe(true);

    // Presence and leases: decoded keys, no epoch milliseconds.
    const presence = (await rookery("presence", "party/r0")).stdout;
    expect(presence).toMatch(/ann:session-ann-00000001\s+ann\s+ann\s+gw-op\s+yes\s+\d+s ago/);
    const nodesJson = (await json("nodes")) as { processes: { started: string }[] };
    expect(nodesJson.processes[0]!.started).toMatch(/Z$/);
  });

  test("cli - move hands one room to the named node; it keeps its state and members", async () => {
    const before = await owners();
    const from = before["party/r0"]!;
    const to = from === "op-a" ? "op-b" : "op-a";
    const run = await rookery("move", "party/r0", "--to", to);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`moved party/r0 from ${from} to ${to} in \\d+ ms`));
    expect((await owners())["party/r0"]).toBe(to);
    const { rooms } = (await json("rooms")) as {
      rooms: { room: string; roomEpoch: number; members: unknown[] }[];
    };
    const r0 = rooms.find((r) => r.room === "party/r0")!;
    expect(r0.roomEpoch).toBe(2);
    expect(r0.members).toHaveLength(2);
    // The room answers on its new node, with the queue it had.
    const reply = await add("r0", "bob", "Song B");
    expect(reply.k).toBe(InternalKind.Acked);
    const rejoin = await joinRoom("r0", "ann");
    if (rejoin.k !== InternalKind.Joined) throw new Error(JSON.stringify(rejoin));
    const titles = (rejoin.state as { items: { title: string }[] }).items.map((i) => i.title);
    expect(titles).toEqual(["Song A", "Song B"]);

    // Without --to: to the least loaded other node. Back and forth works.
    const again = await json("move", "party/r0");
    expect(again).toMatchObject({ room: "party/r0", from: to, to: from });
  });

  test("cli - drain hands every room to the other node without stopping it; undrain takes placements again", async () => {
    const run = await rookery("drain", "op-a");
    expect(run.stderr, run.stdout).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/drain op-a: started, \d+ room\(s\) to hand over/);
    expect(run.stdout).toMatch(
      /drain op-a: done, \d+ room\(s\) handed over.*0 failed, 0 still held/,
    );
    expect(Object.values(await owners()).every((o) => o === "op-b")).toBe(true);
    // Still running and still a member, but it takes no placement.
    const exited = await Promise.race([nodes["op-a"]!.exited, sleep(200).then(() => "running")]);
    expect(exited).toBe("running");
    const processes = (await json("nodes")).processes as { id: string }[];
    expect(processes.map((p) => p.id)).toContain("op-a");
    for (let i = 10; i < 14; i++) await joinRoom(`r${i}`, "ann");
    expect(Object.values(await owners()).every((o) => o === "op-b")).toBe(true);
    // Every moved room still serves.
    expect((await add("r1", "ann", "after drain")).k).toBe(InternalKind.Acked);

    const undrain = await rookery("undrain", "op-a");
    expect(undrain).toMatchObject({ code: 0, stderr: "" });
    expect(undrain.stdout).toContain("undrain op-a: takes placements again");
    // op-a is lighter now: new rooms land there again.
    await until(
      async () => {
        await joinRoom(`n${++seq}`, "ann");
        return Object.values(await owners()).includes("op-a");
      },
      20_000,
      "a new room placed on the undrained node",
    );
  });

  test("cli - watch filters by bucket and key, decodes keys, hides heartbeats unless asked", async () => {
    /** Lines of `rookery watch … --json` for `ms` after its first line. */
    const watch = async (args: string[], ms: number) => {
      const child = await spawnChild({
        script: bin,
        args: ["--server", server.url, "--prefix", prefix, "watch", ...args, "--json"],
      });
      await child.waitForLine(/"key"/, 15_000);
      await sleep(ms);
      await child.kill("SIGTERM");
      return child.lines.map((l) => JSON.parse(l) as { key: string; bucket?: string; at: string });
    };
    const quiet = await watch(["nodes"], 2500);
    const beats = quiet.filter((l) => l.key.startsWith("node.") || l.key.startsWith("gateway."));
    // One line per process (its current value), no heartbeat lines.
    expect(beats.map((l) => l.key).sort()).toEqual(["gateway.gw-op", "node.op-a", "node.op-b"]);
    const loud = await watch(["nodes", "--heartbeats"], 2500);
    expect(loud.length).toBeGreaterThan(beats.length + 3);

    const presence = await watch(["presence", "leases", "--key", "party.r0.>"], 300);
    expect(presence.map((l) => l.key)).toEqual(
      expect.arrayContaining(["party.r0.ann:session-ann-00000001"]),
    );
    expect(presence.every((l) => l.key.startsWith("party.r0.") && !l.key.includes("=3A"))).toBe(
      true,
    );
    expect(presence[0]!.at).toMatch(/Z$/);
  });

  test("cli - exit codes: 0 ok, 2 usage (with a message), 1 errors (with a message)", async () => {
    expect(await rookery("--version")).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    expect((await rookery("drain", "--help")).code).toBe(0);
    const bogus = await rookery("watch", "bogus");
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/unknown bucket "bogus": use nodes, leases, presence, state/);
    expect(await rookery("move", "nonsense")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/room must be <type>\/<id>/),
    });
    expect(await rookery("frobnicate")).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown command 'frobnicate'/),
    });
    expect(await rookery("drain", "nobody")).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/no live node nobody/),
    });
    expect(await rookery("move", "party/never")).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/room party\/never is not active/),
    });
    expect(await rookery("--context", "missing-ctx", "nodes")).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/context missing-ctx not found/),
    });
  });

  test("cli - --context reads a NATS CLI context (url and credentials)", async () => {
    const home = mkdtempSync(join(tmpdir(), "rookery-ctx-"));
    try {
      mkdirSync(join(home, "nats", "context"), { recursive: true });
      writeFileSync(
        join(home, "nats", "context", "local.json"),
        JSON.stringify({ description: "test", url: server.url, creds: "", nkey: "" }),
      );
      const { stdout } = await exec(
        "node",
        [bin, "--context", "local", "--prefix", prefix, "--json", "nodes"],
        { env: { ...process.env, XDG_CONFIG_HOME: home, NATS_URL: "" } },
      );
      expect(stdout).toContain('"op-a"');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
