import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ActorHost } from "@rookery/actors";
import { decodePresenceRecord, presenceKey } from "@rookery/cluster/internal";
import { InternalKind, presenceRoomFilter } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Cluster, expectKind, memberOf } from "./helpers";

/** The room's presence entries, as `member -> leader flag` (gateway checked on the way). */
async function presence(host: ActorHost, type: string, id: string) {
  const kv = memberOf(host).buckets.presence;
  const out: Record<string, { leader: boolean; gateway: string }> = {};
  for await (const key of await kv.keys(presenceRoomFilter(type, id))) {
    const entry = await kv.get(key);
    if (entry?.operation !== "PUT") continue;
    const record = decodePresenceRecord(key, entry.value);
    out[record.member] = { leader: record.leader, gateway: record.gateway };
  }
  return out;
}

describe("presence", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("presence - the bucket mirrors joins, leaves and the leader flag", async () => {
    const cluster = new Cluster(server.url, testNamespace("presence mirror joins leaves"));
    try {
      const node = await cluster.node("n1");
      const router = await cluster.router();
      const member = await cluster.gateway("gw-p");
      const [alice, bob] = [member("alice"), member("bob")];
      for (const m of [alice, bob]) {
        expectKind(
          await router.request("ledger", "p", { k: InternalKind.Join, member: m }),
          InternalKind.Joined,
        );
      }
      await until(
        async () => Object.keys(await presence(node, "ledger", "p")).length === 2,
        5000,
        "two entries",
      );
      expect(await presence(node, "ledger", "p")).toEqual({
        [alice.id]: { leader: true, gateway: "gw-p" },
        [bob.id]: { leader: false, gateway: "gw-p" },
      });

      const leave = { k: InternalKind.Leave, member: alice.id, conn: alice.conn } as const;
      expectKind(await router.request("ledger", "p", leave), InternalKind.Left);
      await until(
        async () =>
          JSON.stringify(await presence(node, "ledger", "p")) ===
          JSON.stringify({ [bob.id]: { leader: true, gateway: "gw-p" } }),
        5000,
        "alice gone, bob leads",
      );
    } finally {
      await cluster.close();
    }
  });

  test("presence - members of a dead gateway leave the bucket", async () => {
    const cluster = new Cluster(server.url, testNamespace("presence dead gateway reconcile"));
    try {
      const node = await cluster.node("n1");
      const router = await cluster.router();
      const stays = (await cluster.gateway("gw-stays"))("carol");
      const doomed = await cluster.gatewayMember("gw-doomed");
      const dave = doomed.info("dave");
      for (const m of [stays, dave]) {
        expectKind(
          await router.request("ledger", "g", { k: InternalKind.Join, member: m }),
          InternalKind.Joined,
        );
      }
      await until(
        async () => Object.keys(await presence(node, "ledger", "g")).length === 2,
        5000,
        "two entries",
      );
      await doomed.stop();
      // First the room drops dave (a resume of carol's shows the member list)…
      await until(
        async () => {
          const view = await router.request("ledger", "g", { k: InternalKind.Join, member: stays });
          return expectKind(view, InternalKind.Joined).members.length === 1;
        },
        5000,
        "the room dropped dave",
      );
      // …then its mirror deletes his entry (read by key: cheaper than a listing under load).
      const kv = memberOf(node).buckets.presence;
      const daveKey = presenceKey("ledger", "g", dave.id);
      await until(
        async () => (await kv.get(daveKey))?.operation !== "PUT",
        5000,
        "dave's entry removed",
      );
      expect(Object.keys(await presence(node, "ledger", "g"))).toEqual([stays.id]);
    } finally {
      await cluster.close();
    }
  });

  test("presence - an ephemeral room restored from a snapshot reconciles its entries", async () => {
    const cluster = new Cluster(server.url, testNamespace("presence ephemeral reconcile"));
    try {
      const node = await cluster.node("n1");
      const router = await cluster.router();
      const erin = (await cluster.gateway("gw-e"))("erin");
      expectKind(
        await router.request("eledger", "e", { k: InternalKind.Join, member: erin }),
        InternalKind.Joined,
      );
      await until(
        async () => Object.keys(await presence(node, "eledger", "e")).length === 1,
        5000,
        "one entry",
      );
      // A stale entry, as a change lost with the room's last moments would leave.
      const kv = memberOf(node).buckets.presence;
      const ghostKey = "eledger.e.ghost=3Asession-ghost-00000001";
      await kv.put(ghostKey, new Uint8Array([0x80]));
      await node.stop();
      const other = await cluster.node("n2");
      await router.place("eledger", "e");
      await until(
        async () => (await kv.get(ghostKey))?.operation !== "PUT",
        5000,
        "ghost reconciled",
      );
      expect(Object.keys(await presence(other, "eledger", "e"))).toEqual([erin.id]);
    } finally {
      await cluster.close();
    }
  });
});
