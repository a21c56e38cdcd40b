import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { InternalKind } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Cluster, expectKind, memberOf } from "./helpers";

describe("journal purge", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("journal - messages a snapshot covers are purged; the room recovers everything", async () => {
    const cluster = new Cluster(server.url, testNamespace("journal purge covered"));
    try {
      const node = await cluster.node("n1");
      const router = await cluster.router();
      const alice = (await cluster.gateway())("alice");
      expectKind(
        await router.request("ledger", "j", { k: InternalKind.Join, member: alice }),
        InternalKind.Joined,
      );
      const input = (seq: number) =>
        router.request("ledger", "j", {
          k: InternalKind.Input,
          member: alice.id,
          seq,
          type: "add",
          body: { n: 1, tag: `t${seq}` },
        });
      for (let seq = 1; seq <= 100; seq++) expectKind(await input(seq), InternalKind.Acked);

      const { journalStream, journalSubject } = memberOf(node).buckets.names;
      const jsm = await jetstreamManager(memberOf(node).nc);
      const stored = async () => {
        const info = await jsm.streams.info(journalStream, {
          subjects_filter: journalSubject("ledger", "j"),
        });
        return info.state.subjects?.[journalSubject("ledger", "j")] ?? 0;
      };
      // 101 appends (the join and 100 inputs) plus the activation marker; a quiet snapshot then purges.
      await until(async () => (await stored()) < 40, 10_000, "journal purged");

      await node.stop();
      await cluster.node("n2");
      const dup = expectKind(await input(100), InternalKind.Acked);
      expect(dup.dup).toBe(true);
      const next = expectKind(await input(101), InternalKind.Acked);
      expect(next.result).toBe(101);
    } finally {
      await cluster.close();
    }
  });
});
