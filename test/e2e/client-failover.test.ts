import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RookeryClient } from "@rookery/client";
import {
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { token } from "../../services/gateway/test/harness";
import { Player } from "../../services/server/test/player";
import { shapes, startGatewayRoleProcess, type Shape } from "../../services/server/test/shapes";

const TTL_MS = 3000;
const BACKOFF_CAP_MS = 1000;
const CLIENTS = 50;
const ROOMS = 10;
const PACE_MS = 100;

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

// Split: gateways gw-a, gw-b and nodes node-a, node-b; gw-a dies, then node-a.
// Co-located: processes p-a, p-b (the clients' first) and p-c; p-a dies (its
// players move, the rooms it hosted re-home), then p-b (the same again).
describe.each(shapes)("client failover (%s)", (shape: Shape) => {
  const title =
    shape === "split"
      ? "client - kill -9 of a gateway and of a node under load: exactly once, no gaps, everyone back"
      : "client - kill -9 of a co-located process, then of another, under load: exactly once, no gaps, everyone back";
  it(title, async () => {
    const prefix = testNamespace(`client - kill gateway and node ${shape}`);
    const children: ChildHandle[] = [];
    const clients: RookeryClient[] = [];
    try {
      if (shape === "split")
        children.push(
          await startNode(server.url, prefix, "node-a"),
          await startNode(server.url, prefix, "node-b"),
        );
      const limits = { ROOKERY_RATE_PER_SEC: "1000", ROOKERY_BURST: "1000" };
      const ids = shape === "split" ? ["gw-a", "gw-b"] : ["p-a", "p-b", "p-c"];
      const gateways = [];
      for (const id of ids)
        gateways.push(await startGatewayRoleProcess(shape, server.url, prefix, id, limits));
      children.push(...gateways.map((g) => g.child));
      const discoveryUrl = gateways.map((g) => `http://127.0.0.1:${g.port}`);

      const players: Player[] = [];
      for (let i = 0; i < CLIENTS; i++) {
        // Half the clients go straight to each gateway; discovery serves reconnects.
        const client = await connect({
          url: gateways[i % 2]!.url,
          discoveryUrl,
          token: () => token(`p${i}`),
          backoffBaseMs: 100,
          backoffCapMs: BACKOFF_CAP_MS,
        });
        clients.push(client);
        players.push(new Player(client, await client.join("ledger", `r${i % ROOMS}`), PACE_MS));
      }
      // The url option pins a client; after the first drop it must rediscover.
      for (const c of clients) (c.options as { url?: string }).url = undefined;
      for (const p of players) p.start();
      await until(() => players.every((p) => p.acked.size >= 5), 15_000, "load flowing");

      const killedGatewayAt = performance.now();
      await gateways[0]!.child.kill("SIGKILL");
      const moved = players.filter((_, i) => i % 2 === 0);
      await until(
        () =>
          moved.every(
            (p) =>
              p.client.state === "open" &&
              p.client.gateway !== ids[0] &&
              p.lastAckAt > killedGatewayAt,
          ),
        TTL_MS + BACKOFF_CAP_MS,
        "clients of the dead gateway are back",
      );
      const gatewayBackMs = performance.now() - killedGatewayAt;

      const killedNodeAt = performance.now();
      // Split: node-a. Co-located: p-b, the second process (and a room owner).
      await (shape === "split" ? children[0]! : gateways[1]!.child).kill("SIGKILL");
      await until(
        () => players.every((p) => p.lastAckAt > killedNodeAt),
        TTL_MS + BACKOFF_CAP_MS,
        "every room serves again",
      );
      const nodeBackMs = performance.now() - killedNodeAt;
      await until(
        () => players.every((p) => p.acked.size >= 60),
        20_000,
        "load after the failures",
      );

      await Promise.all(players.map((p) => p.stop()));
      console.log(
        JSON.stringify({
          test: "client-failover",
          gatewayBackMs: Math.round(gatewayBackMs),
          nodeBackMs: Math.round(nodeBackMs),
          acked: players.reduce((n, p) => n + p.acked.size, 0),
          failed: players.reduce((n, p) => n + p.failed.size, 0),
          reconnects: countBy(players.flatMap((p) => p.reconnects)),
        }),
      );

      // Exactly once: every acknowledged input is in its room's state once, and nothing twice.
      const auditor = await connect({ discoveryUrl, token: () => token("auditor") });
      clients.push(auditor);
      for (let r = 0; r < ROOMS; r++) {
        const room = await auditor.join("ledger", `r${r}`);
        const applied = (room.state as { applied: string[] }).applied;
        expect(new Set(applied).size, `duplicates in r${r}`).toBe(applied.length);
        const acked = players.filter((_, i) => i % ROOMS === r).flatMap((p) => [...p.acked]);
        const missing = acked.filter((tag) => !applied.includes(tag));
        expect(missing, `acknowledged inputs missing from r${r}`).toEqual([]);
      }
      // No gap, no duplicate: each client saw every event of its room once, in
      // order. The only view replacements allowed are snapshots after a room
      // owner's kill (the node; co-located, already the first process): a
      // re-activated room answers a resume with a snapshot, its seqs not being
      // comparable with the old epoch's (protocol.md §8).
      const rehomedFrom = shape === "split" ? killedNodeAt : killedGatewayAt;
      for (const p of players) {
        const bad = p.gaps((snap) => snap.at > rehomedFrom).map((s) => s.seq);
        if (bad.length > 0) console.log("event stream", p.client.member, JSON.stringify(p.trace()));
        expect(bad, `${p.client.member} event seqs`).toEqual([]);
        const early = p.seen.filter((s) => s.kind === "SNAP" && s.at <= rehomedFrom);
        expect(early, `${p.client.member} resumed by snapshot in the same epoch`).toEqual([]);
      }
    } finally {
      for (const c of clients) c.close();
      for (const child of children) await child.kill("SIGKILL").catch(() => undefined);
    }
  });
});

function countBy(items: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}
