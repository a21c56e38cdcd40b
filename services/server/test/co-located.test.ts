import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { connect, type Room, type RookeryClient } from "@rookery/client";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { token } from "../../gateway/test/harness";
import { fixtures } from "../../node/test/nodes";
import type { RookeryServer } from "../src/index";
import { requestPaths, startServer } from "./servers";

const rooms = { ROOKERY_ROOM_MODULES: fixtures };

describe("co-located shape", () => {
  let nats: NatsServer;
  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  async function server(prefix: string, id: string): Promise<RookeryServer> {
    const s = await startServer(nats.url, prefix, id, rooms);
    cleanup.push(() => s.stop());
    return s;
  }

  async function client(s: RookeryServer, user: string): Promise<RookeryClient> {
    const c = await connect({ url: s.gateway!.url, token: () => token(user), backoffCapMs: 500 });
    cleanup.push(() => c.close());
    return c;
  }

  /** Every `total` event the room delivers, in order. */
  function totals(room: Room): number[] {
    const seen: number[] = [];
    room.onEvent("total", (body) => seen.push(body as number));
    return seen;
  }

  test("co-located - a room lives on its first joiner's process; its inputs and events stay in-process", async () => {
    const prefix = testNamespace("co-located local path");
    const s1 = await server(prefix, "p1");
    const s2 = await server(prefix, "p2");
    const alice = await client(s1, "alice");
    const aRoom = await alice.join("ledger", "r1");
    const aTotals = totals(aRoom);
    // Placed where alice is connected, whatever the load of the other process.
    expect(s1.node!.host.actor("ledger", "r1")).toBeDefined();
    expect(s2.node!.host.actor("ledger", "r1")).toBeUndefined();
    const before = await requestPaths(s1.gateway!.port);
    for (let i = 1; i <= 20; i++) expect(await aRoom.send("add", { n: 1, tag: `a${i}` })).toBe(i);
    const after = await requestPaths(s1.gateway!.port);
    expect(after.local - before.local).toBe(20);
    expect(after.nats - before.nats).toBe(0);

    // A player on the other process reaches the same room over NATS.
    const bob = await client(s2, "bob");
    const bRoom = await bob.join("ledger", "r1");
    const bTotals = totals(bRoom);
    for (let i = 1; i <= 10; i++) await bRoom.send("add", { n: 1, tag: `b${i}` });
    expect(await aRoom.send("add", { n: 1, tag: "a21" })).toBe(31);
    await until(() => aTotals.at(-1) === 31 && bTotals.at(-1) === 31, 5000, "both see 31");
    // Every event once, in order, on both paths.
    expect(aTotals).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(bTotals).toEqual(Array.from({ length: 11 }, (_, i) => i + 21));
    expect((await requestPaths(s2.gateway!.port)).local).toBe(0);
  });

  test("co-located - a room moved away by drain while its players stay connected continues over NATS, no gap, no duplicate", async () => {
    const prefix = testNamespace("co-located drain handover");
    const s1 = await server(prefix, "p1");
    const s2 = await server(prefix, "p2");
    const alice = await client(s1, "alice");
    const aRoom = await alice.join("ledger", "r2");
    const aTotals = totals(aRoom);
    const sends: Promise<unknown>[] = [];
    let n = 0;
    const timer = setInterval(() => sends.push(aRoom.send("add", { n: 1, tag: `a${++n}` })), 10);
    cleanup.push(() => clearInterval(timer));
    await until(() => n >= 30, 5000, "load flowing");
    // Only the node role of p1 drains: alice stays connected to p1's gateway.
    await s1.node!.stop();
    await until(() => n >= 90, 10_000, "load goes on");
    clearInterval(timer);
    const results = await Promise.all(sends);
    expect(results).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(s2.node!.host.actor("ledger", "r2")).toBeDefined();
    await until(() => aTotals.at(-1) === n, 5000, "alice sees every total");
    expect(aTotals).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(alice.state).toBe("open");
  });

  test("discovery - ?room= answers the process that owns the room, else the usual choice", async () => {
    const prefix = testNamespace("co-located discovery by room");
    const s1 = await server(prefix, "p1");
    const s2 = await server(prefix, "p2");
    const alice = await client(s2, "alice");
    await alice.join("ledger", "d1");
    const discover = async (via: RookeryServer, query: string) =>
      (await (await fetch(`http://127.0.0.1:${via.gateway!.port}/discover?${query}`)).json()) as {
        gateway: string;
      };
    // Asked of either process, the room's owner (p2, where alice joined first) is named.
    expect((await discover(s1, "room=ledger/d1")).gateway).toBe("p2");
    expect((await discover(s2, "room=ledger/d1")).gateway).toBe("p2");
    // A room's joiners arriving together (they share one lease read) all land there.
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => discover(i % 2 ? s1 : s2, "room=ledger/d1")),
    );
    expect(new Set(burst.map((d) => d.gateway))).toEqual(new Set(["p2"]));
    // Excluded, unknown or malformed: the region/load choice as before.
    expect((await discover(s1, "room=ledger/d1&exclude=p2")).gateway).toBe("p1");
    expect(["p1", "p2"]).toContain((await discover(s1, "room=ledger/nowhere")).gateway);
    expect(["p1", "p2"]).toContain((await discover(s1, "room=%00bad")).gateway);

    // The SDK asks for the room it is about to join, and lands on its process.
    const bootstrap = [s1, s2].map((s) => `http://127.0.0.1:${s.gateway!.port}`);
    for (let i = 0; i < 3; i++) {
      const bob = await connect({
        discoveryUrl: bootstrap,
        room: "ledger/d1",
        token: () => token(`b${i}`),
      });
      cleanup.push(() => bob.close());
      expect(bob.gateway).toBe("p2");
    }
  });
});
