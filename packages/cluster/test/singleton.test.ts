import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect } from "@nats-io/transport-node";
import type { PresenceRecord } from "@rookery/cluster";
import { decodeAny, encodeRecord, presenceKey } from "@rookery/cluster/internal";
import { decodeDownNotice, type DownNotice } from "@rookery/protocol/internal";
import {
  spawnChild,
  startNatsServer,
  testNamespace,
  until,
  type NatsServer,
} from "@rookery/testkit";
import { holderScript, Members, TTL_MS } from "./helpers";

describe("singleton", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("singleton - one holder at a time, handed over when the holder is killed", async () => {
    const prefix = testNamespace("singleton handover on kill");
    const members = new Members(server.url, prefix);
    const first = await spawnChild({
      script: holderScript,
      env: { NATS_URL: server.url, PREFIX: prefix, ID: "first", TTL: String(TTL_MS) },
    });
    try {
      await first.waitForLine(/"event":"ready"/, 30_000);
      const others = await Promise.all([members.start("b"), members.start("c")]);
      const holders = () => others.filter((m) => m.sweeper.isHolder).length;
      // The child started first and holds the duty: nobody else may claim it.
      const duty = await others[0]!.buckets.leases.get("=duty.sweeper");
      expect(decodeAny(duty!.value)).toMatchObject({ owner: "first" });
      expect(holders()).toBe(0);
      const killedAt = performance.now();
      await first.kill("SIGKILL");
      await until(() => holders() === 1, TTL_MS * 2 + 2000, "duty handed over");
      const handoverMs = performance.now() - killedAt;
      expect(handoverMs).toBeLessThan(
        TTL_MS + others[0]!.buckets.options.heartbeatIntervalMs + 1000,
      );
      // Exactly one, and it stays one.
      for (let i = 0; i < 10; i++) {
        expect(holders()).toBe(1);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await first.kill("SIGKILL").catch(() => undefined);
      await members.close();
    }
  });

  test("singleton - a clean stop hands the duty over at once", async () => {
    const members = new Members(server.url, testNamespace("singleton clean stop"));
    try {
      const a = await members.start("a");
      const b = await members.start("b");
      await until(() => a.sweeper.isHolder || b.sweeper.isHolder, 5000, "someone holds");
      const [holder, other] = a.sweeper.isHolder ? [a, b] : [b, a];
      await holder.stop();
      await until(
        () => other.sweeper.isHolder,
        2 * other.buckets.options.heartbeatIntervalMs + 1000,
        "other holds",
      );
    } finally {
      await members.close();
    }
  });

  test("sweeper - announces a dead gateway and removes its presence in inactive rooms", async () => {
    const prefix = testNamespace("sweeper dead gateway presence");
    const members = new Members(server.url, prefix);
    try {
      const sweeperNode = await members.start("sweeper-node");
      await until(() => sweeperNode.sweeper.isHolder, 5000, "sweeper holds duty");
      const gw = await members.start("gw-1", "gateway", {}, { sweeper: false });
      const nc = await connect({ servers: server.url });
      const notices: DownNotice[] = [];
      const sub = nc.subscribe(sweeperNode.buckets.names.processDown, {
        callback: (_err, msg) => {
          const decoded = decodeDownNotice(msg.data);
          if (decoded.ok) notices.push(decoded.frame);
        },
      });
      // One member in a passivated room (lease free), one in a room a live node owns.
      const owned = await sweeperNode.leases.acquire("party", "live");
      expect(owned.acquired).toBe(true);
      const member = (id: string): PresenceRecord => ({
        member: id,
        user: id,
        name: id,
        gateway: "gw-1",
        gatewayEpoch: gw.heartbeat.epoch,
        conn: "c1",
        joinedAt: Date.now(),
        leader: true,
      });
      const presence = sweeperNode.buckets.presence;
      const [u1, u2] = ["u1:Kd3Vb6Nh1Jc5Xy0T", "u2:Kd3Vb6Nh1Jc5Xy0T"];
      const [idleKey, liveKey] = [
        presenceKey("party", "idle", u1),
        presenceKey("party", "live", u2),
      ];
      await presence.put(idleKey, encodeRecord(member(u1)));
      await presence.put(liveKey, encodeRecord(member(u2)));
      await presence.put("party.idle.junk", new Uint8Array([0xc1]));

      // Simulate the gateway dying: stop its heartbeat without a clean delete.
      gw.heartbeat.removeAllListeners();
      await gw.nc.close();
      await until(() => notices.some((n) => n.id === "gw-1"), TTL_MS + 3000, "down notice");
      expect(notices.find((n) => n.id === "gw-1")).toMatchObject({
        role: "gateway",
        reason: "expired",
      });
      // The sweep goes key by key: wait for both the orphan and the undecodable value.
      await until(
        async () =>
          (await presence.get(idleKey))?.operation === "DEL" &&
          (await presence.get("party.idle.junk"))?.operation === "DEL",
        3000,
        "orphan and junk removed",
      );
      // The owned room's member is the owner's to remove, not the sweeper's.
      expect((await presence.get(liveKey))?.operation).toBe("PUT");
      sub.unsubscribe();
      await nc.close();
    } finally {
      await members.close();
    }
  });
});
