import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect, type RookeryClient } from "@rookery/client";
import {
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { token } from "../../gateway/test/harness";
import { fixtures } from "../../node/test/nodes";
import { Player } from "./player";
import { startServerProcess } from "./servers";

const TTL_MS = 3000;
const ROOMS = 3;
const PLAYERS = 9;
const env = {
  ROOKERY_ROOM_MODULES: fixtures,
  ROOKERY_HEARTBEAT_TTL_MS: String(TTL_MS),
  ROOKERY_RATE_PER_SEC: "1000",
  ROOKERY_BURST: "1000",
};

/** Three co-located processes; players of every room on every process, rooms placed on p0. */
async function scenario(url: string, title: string) {
  const prefix = testNamespace(title);
  const procs = [
    await startServerProcess(url, prefix, "p0", env),
    await startServerProcess(url, prefix, "p1", env),
    await startServerProcess(url, prefix, "p2", env),
  ];
  const discoveryUrl = procs.map((p) => `http://127.0.0.1:${p.port}`);
  const clients: RookeryClient[] = [];
  const players: Player[] = [];
  // Player i joins room i % ROOMS through process i % 3 (player 0, 1, 2 first: all on p0).
  for (let i = 0; i < PLAYERS; i++) {
    const client = await connect({
      url: procs[Math.floor(i / ROOMS) % 3]!.url,
      discoveryUrl,
      token: () => token(`u${i}`),
      backoffBaseMs: 100,
      backoffCapMs: 1000,
    });
    clients.push(client);
    players.push(new Player(client, await client.join("ledger", `r${i % ROOMS}`)));
  }
  // The url option pins a client; after the first drop it must rediscover.
  for (const c of clients) (c.options as { url?: string }).url = undefined;
  const close = async () => {
    for (const c of clients) c.close();
    for (const p of procs) await p.child.kill("SIGKILL").catch(() => undefined);
  };
  return { procs, players, clients, discoveryUrl, close };
}

/** Every acked input in its room once, nothing twice, no gap; no ghost once the dead expired. */
async function audit(discoveryUrl: string[], players: Player[], clients: RookeryClient[]) {
  const auditor = await connect({ discoveryUrl, token: () => token("auditor") });
  clients.push(auditor);
  for (let r = 0; r < ROOMS; r++) {
    const room = await auditor.join("ledger", `r${r}`);
    const inRoom = players.filter((_, i) => i % ROOMS === r);
    const expected = [...inRoom.map((p) => p.client.member), auditor.member].sort();
    const members = () => room.members.map((m) => m.id).sort();
    await until(
      () => JSON.stringify(members()) === JSON.stringify(expected),
      TTL_MS * 3,
      `no ghost in r${r}`,
    ).catch(() => undefined);
    expect(members(), `members of r${r}`).toEqual(expected);
    const applied = (room.state as { applied: string[] }).applied;
    expect(new Set(applied).size, `duplicates in r${r}`).toBe(applied.length);
    const missing = inRoom.flatMap((p) => [...p.acked]).filter((t) => !applied.includes(t));
    expect(missing, `acknowledged inputs missing from r${r}`).toEqual([]);
  }
  for (const p of players) {
    if (p.gaps().length > 0) console.log(p.client.member, JSON.stringify(p.trace()));
    expect(p.gaps(), `${p.client.member} event seqs`).toEqual([]);
  }
}

describe("co-located failover", () => {
  let nats: NatsServer;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  test("co-located - kill -9 of a process under load: players reconnect elsewhere, rooms re-home, acked inputs applied once, no gap, no ghost", async () => {
    const { procs, players, clients, discoveryUrl, close } = await scenario(
      nats.url,
      "co-located kill -9",
    );
    try {
      for (const p of players) p.start();
      await until(() => players.every((p) => p.acked.size >= 5), 15_000, "load flowing");
      const killedAt = performance.now();
      await procs[0]!.child.kill("SIGKILL");
      await until(
        () => players.every((p) => p.lastAckAt > killedAt && p.client.state === "open"),
        20_000,
        "every player served again",
      );
      const backMs = performance.now() - killedAt;
      await until(() => players.every((p) => p.acked.size >= 30), 20_000, "load after the kill");
      await Promise.all(players.map((p) => p.stop()));
      console.log(JSON.stringify({ test: "co-located kill -9", backMs: Math.round(backMs) }));
      await audit(discoveryUrl, players, clients);
      expect(players.flatMap((p) => [...p.failed.values()])).toEqual([]);
    } finally {
      await close();
    }
  });

  test("co-located - SIGSTOP past the heartbeat TTL: the process fail-stops both roles; nothing acked is lost or doubled", async () => {
    const { procs, players, clients, discoveryUrl, close } = await scenario(
      nats.url,
      "co-located sigstop",
    );
    try {
      for (const p of players) p.start();
      await until(() => players.every((p) => p.acked.size >= 5), 15_000, "load flowing");
      const onP0 = players.filter((p) => p.client.gateway === "p0");
      const dropped = new Set<Player>();
      for (const p of onP0) p.client.on("reconnecting", () => dropped.add(p));
      const child: ChildHandle = procs[0]!.child;
      child.pause();
      const resumeAt = performance.now() + TTL_MS * 2;
      await until(() => performance.now() > resumeAt, TTL_MS * 3, "past the TTL");
      child.resume();
      // Its sockets no longer stand for members: the gateway role closed them.
      await until(() => onP0.every((p) => dropped.has(p)), 10_000, "p0's players dropped");
      const resumedAt = performance.now();
      await until(
        () => players.every((p) => p.lastAckAt > resumedAt),
        20_000,
        "every player served again",
      );
      await until(() => players.every((p) => p.acked.size >= 40), 20_000, "load after resume");
      await Promise.all(players.map((p) => p.stop()));
      await audit(discoveryUrl, players, clients);
    } finally {
      await close();
    }
  });
});
