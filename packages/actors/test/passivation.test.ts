import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeAny } from "@rookery/cluster/internal";
import { InternalKind } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Cluster, expectKind, memberInfo, memberOf } from "./helpers";

describe("passivation", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("passivation - an idle room snapshots, frees its lease, and comes back with its state", async () => {
    const cluster = new Cluster(server.url, testNamespace("passivation idle room"));
    try {
      const a = await cluster.node("n1", { idleMs: 300 });
      const router = await cluster.router();
      const alice = (await cluster.gateway())("alice");
      expectKind(
        await router.request("ledger", "q", { k: InternalKind.Join, member: alice }),
        InternalKind.Joined,
      );
      for (const seq of [1, 2, 3]) {
        const body = { n: seq, tag: `t${seq}` };
        expectKind(
          await router.request("ledger", "q", {
            k: InternalKind.Input,
            member: alice.id,
            seq,
            type: "add",
            body,
          }),
          InternalKind.Acked,
        );
      }
      await until(() => a.size === 0, 5000, "room passivated");
      const lease = await memberOf(a).buckets.leases.get("ledger.q");
      expect(decodeAny(lease!.value)).toMatchObject({ owner: null, roomEpoch: 1 });

      // The next frame reactivates it (on any node) with the same state, members and dedupe table.
      await cluster.node("n2", { idleMs: 300 });
      const dup = expectKind(
        await router.request("ledger", "q", {
          k: InternalKind.Input,
          member: alice.id,
          seq: 3,
          type: "add",
          body: { n: 3, tag: "t3" },
        }),
        InternalKind.Acked,
      );
      expect(dup.dup).toBe(true);
      const next = expectKind(
        await router.request("ledger", "q", {
          k: InternalKind.Input,
          member: alice.id,
          seq: 4,
          type: "add",
          body: { n: 4, tag: "t4" },
        }),
        InternalKind.Acked,
      );
      expect(next.result).toBe(10);
    } finally {
      await cluster.close();
    }
  });

  test("passivation - a room with an armed timer stays active and the timer fires", async () => {
    const cluster = new Cluster(server.url, testNamespace("passivation keeps timers"));
    try {
      const a = await cluster.node("n1", { idleMs: 200 });
      const router = await cluster.router();
      const alice = memberInfo("alice");
      expectKind(
        await router.request("alarm", "x", { k: InternalKind.Join, member: alice }),
        InternalKind.Joined,
      );
      expectKind(
        await router.request("alarm", "x", {
          k: InternalKind.Input,
          member: alice.id,
          seq: 1,
          type: "arm",
          body: { ms: 1000 },
        }),
        InternalKind.Acked,
      );
      await until(
        () => a.actor("alarm", "x") === undefined,
        4000,
        "passivated after the alarm rang",
      );
      const state = await router.request("alarm", "x", {
        k: InternalKind.Join,
        member: { ...alice, conn: "c2" },
      });
      expect(expectKind(state, InternalKind.Joined).state).toMatchObject({ fired: 1 });
    } finally {
      await cluster.close();
    }
  });

  test("durability - an ephemeral room recovers its last snapshot after a crash, never a torn state", async () => {
    const cluster = new Cluster(server.url, testNamespace("durability ephemeral crash"));
    try {
      const a = await cluster.node("a", { idleMs: 0, snapshotMs: 200 });
      const router = await cluster.router();
      const alice = (await cluster.gateway())("alice");
      expectKind(
        await router.request("eledger", "e", { k: InternalKind.Join, member: alice }),
        InternalKind.Joined,
      );
      const add = (seq: number) =>
        router.request("eledger", "e", {
          k: InternalKind.Input,
          member: alice.id,
          seq,
          type: "add",
          body: { n: 1, tag: `t${seq}` },
        });
      for (const seq of [1, 2, 3, 4, 5]) expectKind(await add(seq), InternalKind.Acked);
      await until(
        async () => {
          const entry = await memberOf(a).buckets.state.get("eledger.e");
          return (
            entry && (decodeAny(entry.value) as { state: { total: number } }).state.total === 5
          );
        },
        3000,
        "snapshot written",
      );
      // Two more inputs, acknowledged at once (ephemeral), then a crash before the next snapshot.
      for (const seq of [6, 7]) expectKind(await add(seq), InternalKind.Acked);
      a.actor("eledger", "e")!.stop("crash");
      await memberOf(a).stop();
      await cluster.node("b", { idleMs: 0 });
      const joined = expectKind(
        await router.request("eledger", "e", {
          k: InternalKind.Join,
          member: { ...alice, conn: "c2" },
        }),
        InternalKind.Joined,
      );
      // The recent inputs are lost (the documented price of ephemeral rooms); what is there is whole.
      expect(joined.state).toEqual({ applied: ["t1", "t2", "t3", "t4", "t5"], total: 5 });
    } finally {
      await cluster.close();
    }
  });
});
