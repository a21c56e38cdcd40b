import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { InternalKind, type RoomReply } from "@rookery/protocol/internal";
import { startNatsCluster, testNamespace, until, type NatsCluster } from "@rookery/testkit";
import { Cluster, expectKind } from "./helpers";

describe("broker election", () => {
  let servers: NatsCluster;
  beforeAll(async () => {
    servers = await startNatsCluster(3);
  });
  afterAll(async () => {
    await servers?.stop();
  });

  test("journal - rooms ride out the loss of the journal stream's leader: no room stops, no input fails or is lost", async () => {
    const cluster = new Cluster(servers.urls, testNamespace("journal leader loss"), {
      replicas: 3,
      heartbeatTags: servers.tags,
    });
    try {
      const node = await cluster.node("n1");
      const stopped: string[] = [];
      node.on("stopped", (actor, reason) => stopped.push(`${actor.key}: ${reason}`));
      // The router resends for as long as a gateway does (20 s): an election takes 5-14 s on 2.9.
      const router = await cluster.router(20_000);
      const alice = (await cluster.gateway())("alice");
      const rooms = ["a", "b", "c"];
      for (const id of rooms)
        expectKind(
          await router.request("ledger", id, { k: InternalKind.Join, member: alice }),
          InternalKind.Joined,
        );

      const replies: RoomReply[] = [];
      let seq = 0;
      let stop = false;
      const load = (async () => {
        while (!stop) {
          const sent = rooms.map((id) => {
            seq++;
            const body = { n: 1, tag: `${id}#${seq}` };
            return router.request("ledger", id, {
              k: InternalKind.Input,
              member: alice.id,
              seq,
              type: "add",
              body,
            });
          });
          replies.push(...(await Promise.all(sent)));
        }
      })();
      await until(() => replies.length >= 30, 10_000, "load flowing");

      const jsm = await jetstreamManager(node.member.nc);
      const info = await jsm.streams.info(node.member.buckets.names.journalStream);
      const leader = servers.servers.find((s) => s.name === info.cluster?.leader);
      if (!leader) throw new Error(`no server named ${info.cluster?.leader}`);
      const before = replies.length;
      await leader.kill();
      await until(
        () => replies.length >= before + 60,
        30_000,
        "load flows again after the election",
      );
      stop = true;
      await load;

      // Every input was acknowledged (none ROOM_UNAVAILABLE), and each room holds each once.
      expect(replies.filter((r) => r.k !== InternalKind.Acked)).toEqual([]);
      // No room stopped and re-activated: appends were retried through the election.
      expect(stopped).toEqual([]);
      for (const id of rooms) {
        const view = expectKind(
          await router.request("ledger", id, {
            k: InternalKind.Join,
            member: { ...alice, conn: "c-check" },
          }),
          InternalKind.Joined,
        );
        const applied = (view.state as { applied: string[] }).applied;
        expect(new Set(applied).size).toBe(applied.length);
        expect(applied.length).toBe(replies.length / rooms.length);
      }
      await leader.restart();
    } finally {
      await cluster.close();
    }
  });
});
