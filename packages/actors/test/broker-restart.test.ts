import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import type { RuntimeOptions } from "@rookery/actors";
import { InternalKind } from "@rookery/protocol/internal";
import { startNatsCluster, testNamespace, until, type NatsCluster } from "@rookery/testkit";
import { Cluster, expectKind, memberOf } from "./helpers";

/** Options of the node under test: `journalPurge` is what the failure depends on. */
const PURGE: RuntimeOptions = {};
/** Snapshots (and so purges, every 32 appends) come fast for room `a`. */
const EAGER = { snapshotEvery: 4, quietSnapshotMs: 0, idleMs: 0 };
/** Room `b` never snapshots: its journal alone holds its acknowledged inputs. */
const LAZY = { snapshotEvery: 100_000, quietSnapshotMs: 0, idleMs: 0 };

describe("broker restart", () => {
  let servers: NatsCluster;
  beforeAll(async () => {
    servers = await startNatsCluster(3);
  });
  afterAll(async () => {
    await servers?.stop();
  });

  test("journal - a NATS server restart, then that server leading the journal, loses no acknowledged input of any room", async () => {
    const cluster = new Cluster(servers.urls, testNamespace("journal server restart"), {
      replicas: 3,
      heartbeatTags: servers.tags,
    });
    await cluster.run(async () => {
      const eager = await cluster.node("n1", { ...EAGER, ...PURGE });
      const lazy = await cluster.node("n2", { ...LAZY, ...PURGE });
      // Re-activating b after forced stepdowns can outlast a gateway's 20 s
      // (the restarted leader catches up first): this test is about loss, not speed.
      const router = await cluster.router(45_000);
      const alice = (await cluster.gateway())("alice");
      await lazy.activate("ledger", "b");
      await eager.activate("ledger", "a");
      const send = async (id: string, seq: number) =>
        expectKind(
          await router.request("ledger", id, {
            k: InternalKind.Input,
            member: alice.id,
            seq,
            type: "add",
            body: { n: 1, tag: `${id}${seq}` },
          }),
          InternalKind.Acked,
        );
      for (const id of ["a", "b"])
        await router.request("ledger", id, { k: InternalKind.Join, member: alice });
      // b's entries sit low in the stream; a's snapshots then purge a's subject above them.
      for (let seq = 1; seq <= 10; seq++) await send("b", seq);
      for (let seq = 1; seq <= 100; seq++) await send("a", seq);

      // A follower restarts (it replays its raft log), then leads the journal stream.
      const jsm = await jetstreamManager(memberOf(eager).nc);
      const stream = memberOf(eager).buckets.names.journalStream;
      const leaderName = async () => (await jsm.streams.info(stream)).cluster?.leader;
      const first = await leaderName();
      const restarted = servers.servers.find((s) => s.name !== first)!;
      await restarted.kill();
      await restarted.restart();
      await until(
        async () => {
          if ((await leaderName()) === restarted.name) return true;
          await memberOf(eager)
            .nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 5000 })
            .catch(() => undefined);
          return false;
        },
        45_000,
        "the restarted server leads the journal stream",
      );

      // b moves: its next owner rebuilds it from the journal alone.
      await lazy.stop();
      const view = expectKind(
        await router.request("ledger", "b", {
          k: InternalKind.Join,
          member: { ...alice, conn: "c-check" },
        }),
        InternalKind.Joined,
      );
      const applied = (view.state as { applied: string[] }).applied;
      expect(applied).toEqual(Array.from({ length: 10 }, (_, i) => `b${i + 1}`));
    });
  }, 120_000);

  test("lease - a node drained during the lease bucket's leader election frees its rooms for another node", async () => {
    const cluster = new Cluster(servers.urls, testNamespace("drain during lease election"), {
      replicas: 3,
      heartbeatTags: servers.tags,
    });
    await cluster.run(async () => {
      const staying = await cluster.node("n1", LAZY);
      const leaving = await cluster.node("n2", LAZY);
      const router = await cluster.router(20_000);
      const alice = (await cluster.gateway())("alice");
      const rooms = ["c", "d", "e", "f"];
      for (const id of rooms) {
        await leaving.activate("ledger", id);
        await router.request("ledger", id, { k: InternalKind.Join, member: alice });
        expectKind(
          await router.request("ledger", id, {
            k: InternalKind.Input,
            member: alice.id,
            seq: 1,
            type: "add",
            body: { n: 1, tag: `${id}1` },
          }),
          InternalKind.Acked,
        );
      }
      // The releases of the drain meet the lease stream's election.
      const stream = `KV_${memberOf(leaving).buckets.names.leasesBucket}`;
      await memberOf(leaving).nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, {
        timeout: 5000,
      });
      await leaving.stop();
      // Another node serves every room while the drained one stays up.
      for (const id of rooms) {
        const view = expectKind(
          await router.request("ledger", id, {
            k: InternalKind.Join,
            member: { ...alice, conn: "c-check" },
          }),
          InternalKind.Joined,
        );
        expect((view.state as { applied: string[] }).applied).toEqual([`${id}1`]);
      }
      expect(staying.size).toBe(rooms.length);
    });
  }, 90_000);
});
