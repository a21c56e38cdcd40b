import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InternalKind } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Cluster, expectKind, memberInfo, memberOf } from "./helpers";

describe("placement", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("placement - 200 rooms, concurrent first frames from many senders: each activates exactly once", async () => {
    const cluster = new Cluster(server.url, testNamespace("placement activates once"));
    try {
      const [a, b] = [await cluster.node("n1"), await cluster.node("n2")];
      const activations = new Map<string, number>();
      for (const host of [a, b])
        host.on("activated", (actor) =>
          activations.set(actor.key, (activations.get(actor.key) ?? 0) + 1),
        );
      const routers = await Promise.all([0, 1, 2, 3, 4].map(() => cluster.router()));
      const rooms = Array.from({ length: 200 }, (_, i) => `r${i}`);
      const replies = await Promise.all(
        rooms.flatMap((id) =>
          routers.map((router, s) =>
            router.request("ledger", id, { k: InternalKind.Join, member: memberInfo(`u${s}`) }),
          ),
        ),
      );
      for (const reply of replies) expectKind(reply, InternalKind.Joined);
      expect(activations.size).toBe(200);
      expect([...activations.values()].every((n) => n === 1)).toBe(true);
      expect(a.size + b.size).toBe(200);
      for (const id of rooms)
        expect(Boolean(a.actor("ledger", id)) !== Boolean(b.actor("ledger", id))).toBe(true);
      // Every room saw all five senders join, in one consistent member list.
      const last = expectKind(
        await routers[0]!.request("ledger", "r7", {
          k: InternalKind.Join,
          member: memberInfo("u0"),
        }),
        InternalKind.Joined,
      );
      expect(last.members.map((m) => m.user).sort()).toEqual(["u0", "u1", "u2", "u3", "u4"]);
      expect(a.size).toBeGreaterThan(20);
      expect(b.size).toBeGreaterThan(20);
    } finally {
      await cluster.close();
    }
  });

  test("mailbox - a throwing handler and a 2 s loop affect only their own room", async () => {
    const cluster = new Cluster(server.url, testNamespace("mailbox isolation"));
    try {
      await cluster.node("n1");
      const router = await cluster.router();
      const alice = memberInfo("alice");
      for (const [type, id] of [
        ["flaky", "bad"],
        ["ledger", "good"],
      ] as const) {
        expectKind(
          await router.request(type, id, { k: InternalKind.Join, member: alice }),
          InternalKind.Joined,
        );
      }
      const input = (type: string, id: string, seq: number, kind: string, body: unknown = null) =>
        router.request(type, id, {
          k: InternalKind.Input,
          member: alice.id,
          seq,
          type: kind,
          body: body as never,
        });

      const boom = expectKind(await input("flaky", "bad", 1, "boom"), InternalKind.Err);
      expect(boom.code).toBe("INPUT_REJECTED");

      const started = performance.now();
      const spin = input("flaky", "bad", 2, "spin", { ms: 2000 });
      const goodAcks = await Promise.all(
        [1, 2, 3].map((seq) => input("ledger", "good", seq, "add", { n: 1, tag: `a#${seq}` })),
      );
      const goodDoneMs = performance.now() - started;
      for (const ack of goodAcks) expectKind(ack, InternalKind.Acked);
      const spun = expectKind(await spin, InternalKind.Err);
      expect(spun.code).toBe("INPUT_REJECTED");
      expect(spun.message).toMatch(/interrupted/);
      // The other room was served while the bad one spun (the loop was cut at its 250 ms budget).
      expect(goodDoneMs).toBeLessThan(1000);
      // The bad room kept its previous state: neither failed handler's change is visible.
      const inc = expectKind(await input("flaky", "bad", 3, "inc"), InternalKind.Acked);
      expect(inc.result).toBe(1);
    } finally {
      await cluster.close();
    }
  });

  test("placement - new rooms go to the less loaded node", async () => {
    const cluster = new Cluster(server.url, testNamespace("placement prefers least loaded"));
    try {
      const busy = await cluster.node("busy");
      await Promise.all(Array.from({ length: 50 }, (_, i) => busy.activate("ledger", `old-${i}`)));
      const idle = await cluster.node("idle");
      // Loads travel in heartbeats: wait until both nodes see both published loads.
      const published = (host: typeof busy, id: string) =>
        memberOf(host)
          .view.list("node")
          .find((p) => p.id === id)?.load;
      await until(
        () => published(busy, "busy") === 50 && published(idle, "busy") === 50,
        5000,
        "busy load published",
      );
      await until(() => published(busy, "idle") === 0, 5000, "idle load published");
      const router = await cluster.router();
      const alice = memberInfo("alice");
      for (let i = 0; i < 40; i++) {
        expectKind(
          await router.request("ledger", `new-${i}`, { k: InternalKind.Join, member: alice }),
          InternalKind.Joined,
        );
      }
      expect(busy.size).toBe(50);
      expect(idle.size).toBe(40);
    } finally {
      await cluster.close();
    }
  });
});
