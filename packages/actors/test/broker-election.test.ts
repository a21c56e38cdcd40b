import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { InternalKind, type RoomReply, type RoomRequest } from "@rookery/protocol/internal";
import { startNatsCluster, testNamespace, until, type NatsCluster } from "@rookery/testkit";
import { Cluster, expectKind, memberOf } from "./helpers";

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
    await cluster.run(async () => {
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
      const failures: unknown[] = [];
      let resends = 0;
      let seq = 0;
      let stop = false;
      // As the SDK does (docs/protocol.md §6): an input whose outcome is
      // unknown (ROOM_UNAVAILABLE after the gateway's 20 s) is sent again
      // with the same seq, for up to its inputTimeoutMs (60 s).
      const send = async (id: string, frame: RoomRequest): Promise<RoomReply> => {
        const giveUp = performance.now() + 60_000;
        for (;;) {
          try {
            return await router.request("ledger", id, frame);
          } catch (error) {
            if ((error as { code?: string }).code !== "ROOM_UNAVAILABLE") throw error;
            if (performance.now() > giveUp) throw error;
            resends++;
          }
        }
      };
      const load = (async () => {
        while (!stop) {
          const sent = rooms.map((id) => {
            seq++;
            const body = { n: 1, tag: `${id}#${seq}` };
            return send(id, { k: InternalKind.Input, member: alice.id, seq, type: "add", body });
          });
          replies.push(...(await Promise.all(sent)));
        }
      })().catch((error: unknown) => {
        failures.push(error);
      });
      await until(() => replies.length >= 30, 10_000, "load flowing");

      const jsm = await jetstreamManager(memberOf(node).nc);
      const info = await jsm.streams.info(memberOf(node).buckets.names.journalStream);
      const leader = servers.servers.find((s) => s.name === info.cluster?.leader);
      if (!leader) throw new Error(`no server named ${info.cluster?.leader}`);
      const before = replies.length;
      await leader.kill();
      const killedAt = performance.now();
      await until(
        () => failures.length > 0 || replies.length >= before + 60,
        90_000,
        "load flows again after the election",
      );
      stop = true;
      await load;
      expect(failures).toEqual([]);
      console.log(
        JSON.stringify({
          test: "journal-leader-loss",
          recoveredMs: Math.round(performance.now() - killedAt),
          resends,
        }),
      );

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
    });
  });
});
