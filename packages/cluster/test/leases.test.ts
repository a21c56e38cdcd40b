import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeRecord, FencedKey, decodeAny } from "@rookery/cluster/internal";
import {
  spawnChild,
  startNatsServer,
  testNamespace,
  until,
  type NatsServer,
} from "@rookery/testkit";
import { holderScript, Members, TTL_MS } from "./helpers";

describe("leases", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("lease - 100 rounds of 5 contenders: one winner per round, epochs rise", async () => {
    const members = new Members(server.url, testNamespace("lease contention"));
    try {
      const contenders = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => members.start(`n${i}`, "node", {}, { sweeper: false })),
      );
      let lastEpoch = 0;
      for (let round = 0; round < 100; round++) {
        const results = await Promise.all(contenders.map((m) => m.leases.acquire("chess", "duel")));
        const winners = results.flatMap((r, i) => (r.acquired ? [{ r, i }] : []));
        expect(winners, `round ${round}`).toHaveLength(1);
        const { r, i } = winners[0]!;
        if (!r.acquired) throw new Error("unreachable");
        expect(r.lease.roomEpoch).toBeGreaterThan(lastEpoch);
        lastEpoch = r.lease.roomEpoch;
        for (const loser of results.filter((x) => !x.acquired)) {
          expect(loser).toMatchObject({ owner: `n${i}` });
        }
        await contenders[i]!.leases.release(r.lease);
      }
      expect(lastEpoch).toBe(100);
    } finally {
      await members.close();
    }
  });

  test("lease - release marks the lease free, never deletes it", async () => {
    const prefix = testNamespace("lease release marks free");
    const members = new Members(server.url, prefix);
    try {
      const a = await members.start("a", "node", {}, { sweeper: false });
      const first = await a.leases.acquire("queue", "q1");
      if (!first.acquired) throw new Error("expected to acquire");
      await a.leases.release(first.lease);
      const entry = await a.buckets.leases.get("queue.q1");
      expect(entry?.operation).toBe("PUT");
      expect(decodeAny(entry!.value)).toMatchObject({ owner: null, roomEpoch: 1 });
      const second = await a.leases.acquire("queue", "q1");
      expect(second.acquired && second.lease.roomEpoch).toBe(2);
    } finally {
      await members.close();
    }
  });

  test("lease - takeover after owner dies: 1,000 leases of a SIGKILLed process", async () => {
    const prefix = testNamespace("lease takeover after owner dies");
    const members = new Members(server.url, prefix);
    const holder = await spawnChild({
      script: holderScript,
      env: {
        NATS_URL: server.url,
        PREFIX: prefix,
        ID: "doomed",
        ROOMS: "1000",
        TTL: String(TTL_MS),
      },
    });
    try {
      const heir = await members.start("heir", "node", {}, { sweeper: false });
      await holder.waitForLine(/"event":"ready"/, 30_000);
      await until(
        () => heir.view.list("node").some((p) => p.id === "doomed"),
        5000,
        "holder visible",
      );
      let downAt = 0;
      heir.view.on("down", (p) => {
        if (p.id === "doomed") downAt = performance.now();
      });
      const killedAt = performance.now();
      await holder.kill("SIGKILL");
      await until(() => downAt, TTL_MS + 3000, "holder observed down");
      const detectionMs = downAt - killedAt;
      expect(detectionMs).toBeLessThan(TTL_MS + 1000);

      const taken = new Set<string>();
      for (let i = 0; i < 1000; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => `room-${i + j}`);
        const results = await Promise.all(batch.map((id) => heir.leases.acquire("game", id)));
        for (const [j, r] of results.entries()) {
          expect(r.acquired && r.lease.takenOver, `room-${i + j}`).toBe(true);
          expect(taken.has(batch[j]!)).toBe(false);
          taken.add(batch[j]!);
        }
      }
      expect(taken.size).toBe(1000);
      // Taking over again is a no-op: the heir already holds every room.
      const again = await heir.leases.acquire("game", "room-7");
      expect(again.acquired && again.lease.takenOver).toBe(true);
      expect(heir.leases.held()).toHaveLength(1000);
    } finally {
      await holder.kill("SIGKILL").catch(() => undefined);
      await members.close();
    }
  });

  test("lease - zombie paused past its TTL stops itself and none of its writes land", async () => {
    const prefix = testNamespace("lease zombie paused past ttl");
    const members = new Members(server.url, prefix);
    const zombie = await spawnChild({
      script: holderScript,
      env: {
        NATS_URL: server.url,
        PREFIX: prefix,
        ID: "zombie",
        ROOMS: "1",
        TTL: String(TTL_MS),
        WRITE_STATE: "1",
      },
    });
    try {
      const heir = await members.start("heir", "node", {}, { sweeper: false });
      await zombie.waitForLine(/"event":"wrote"/, 30_000);
      zombie.pause();
      await until(
        () => !heir.view.isLive("zombie", zombieEpoch(zombie.lines), "node"),
        TTL_MS + 3000,
        "zombie expired",
      );

      const taken = await heir.leases.acquire("game", "room-0");
      if (!taken.acquired) throw new Error("heir could not take the lease over");
      expect(taken.lease.takenOver).toBe(true);
      const current = await heir.buckets.state.get("game.room-0");
      const fence = new FencedKey(heir.buckets.state, "game.room-0", current!.revision, () =>
        heir.heartbeat.isAlive(),
      );
      const heirRevision = await fence.write(encodeRecord({ writer: "heir", n: 0 }));

      zombie.resume();
      await zombie.waitForLine(/"event":"failstop"/, 5000);
      await zombie.waitForLine(/"event":"refused"/, 5000);
      await until(
        () =>
          zombie.lines.some(
            (l) => l.includes('"code":"OWNERSHIP_LOST"') || l.includes('"code":"FAIL_STOPPED"'),
          ),
        5000,
        "zombie refused",
      );

      const latest = await heir.buckets.state.get("game.room-0");
      expect(latest?.revision).toBe(heirRevision);
      expect(decodeAny(latest!.value)).toEqual({ writer: "heir", n: 0 });
      const wroteAfterResume = zombie.lines.filter((l) => l.includes('"event":"wrote"'));
      const lastWrote = wroteAfterResume.at(-1);
      // The zombie never reports a write after the heir's: every later attempt was refused.
      const lastN = lastWrote ? JSON.parse(lastWrote).n : 0;
      const refused = zombie.lines
        .filter((l) => l.includes('"event":"refused"'))
        .map((l) => JSON.parse(l).n);
      expect(Math.min(...refused)).toBeGreaterThan(lastN);
    } finally {
      zombie.resume();
      await zombie.kill("SIGKILL").catch(() => undefined);
      await members.close();
    }
  });
});

function zombieEpoch(lines: string[]): string {
  const ready = lines.find((l) => l.includes('"event":"ready"'));
  return ready ? JSON.parse(ready).epoch : "";
}
