import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect } from "@nats-io/transport-node";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { decodeRoomEvent, InternalKind } from "@rookery/protocol/internal";
import {
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { nodeWord, shapes, startNodeRole, type Shape } from "../../server/test/shapes";
import { LedgerLoad, memberOf } from "./load";
import { eventBody } from "./nodes";

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

// Split: node processes alone. Co-located: processes with both roles, whose
// gateway role serves nobody here (the load comes over NATS, as from a gateway
// elsewhere): the node role must fail over the same way beside a gateway.
describe.each(shapes)("node failover (%s)", (shape: Shape) => {
  const startNode = (url: string, prefix: string, id: string, env?: Record<string, string>) =>
    startNodeRole(shape, url, prefix, id, env);
  const a = nodeWord(shape);

  test(`failover - kill -9 of ${a} hosting 500 durable rooms loses no acknowledged input`, async () => {
    const prefix = testNamespace(`failover kill durable rooms ${shape}`);
    const children: ChildHandle[] = [];
    const load = new LedgerLoad(server.url, prefix, 500, 500);
    try {
      // Every room lands on "doomed" (the only node), then a second node joins.
      children.push(await startNode(server.url, prefix, "doomed"));
      await load.start();
      children.push(
        await startNode(server.url, prefix, "survivor", {
          ROOKERY_LOG_LEVEL: process.env.ROOKERY_SURVIVOR_LOG ?? "warn",
        }),
      );
      const killedAt = performance.now();
      const killedWall = Date.now();
      await children[0]!.kill("SIGKILL");
      await load.servingAfter(killedAt);
      const worst = load.worstGapAfter(killedAt);
      await load.stop();
      await load.verify();
      // ROOKERY_SURVIVOR_LOG=debug keeps the survivor's log (first line: kill time) for analysis.
      if (process.env.ROOKERY_SURVIVOR_LOG) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync("/tmp/survivor.log", `${killedWall}\n${children[1]!.lines.join("\n")}`);
      }
      // Availability is a benchmark figure (DESIGN.md budget: TTL + 1 s), printed, not asserted.
      console.log(
        `failover: 500 rooms, longest unavailability after kill -9: ${Math.round(worst)} ms`,
      );
    } finally {
      await load.close();
      for (const child of children) await child.kill("SIGKILL").catch(() => undefined);
    }
  });

  test(`failover - ${a} paused past its TTL emits and writes nothing for the rooms it lost`, async () => {
    const prefix = testNamespace(`failover paused node zombie ${shape}`);
    const children: ChildHandle[] = [];
    const load = new LedgerLoad(server.url, prefix, 50);
    const watcher = await connect({ servers: server.url });
    try {
      children.push(
        await startNode(server.url, prefix, "zombie"),
        await startNode(server.url, prefix, "heir"),
      );
      await load.start();
      const events: { epoch: number; room: string; at: number }[] = [];
      watcher.subscribe(`${prefix}.room.ledger.*.ev`, {
        callback: (_e, msg) => {
          const decoded = decodeRoomEvent(msg.data);
          if (decoded.ok)
            events.push({
              epoch: decoded.frame.epoch,
              room: msg.subject.split(".")[3]!,
              at: performance.now(),
            });
        },
      });
      const pausedAt = performance.now();
      children[0]!.pause();
      await load.servingAfter(pausedAt);
      // Every room now runs on the heir under a newer epoch; remember the newest epoch per room.
      const current = new Map<string, number>();
      for (const e of events) current.set(e.room, Math.max(current.get(e.room) ?? 0, e.epoch));
      const resumedAt = performance.now();
      children[0]!.resume();
      await until(() => performance.now() > resumedAt + 2000, 5000, "zombie had time to misbehave");
      const stale = events.filter((e) => e.at > resumedAt && e.epoch < (current.get(e.room) ?? 0));
      expect(stale).toEqual([]);
      await load.stop();
      await load.verify();
    } finally {
      await watcher.close();
      await load.close();
      for (const child of children) {
        child.resume();
        await child.kill("SIGKILL").catch(() => undefined);
      }
    }
  });

  test(`failover - ${a} killed: its rooms come back without a frame and their timers still fire`, async () => {
    const prefix = testNamespace(`failover rehome timers ${shape}`);
    const children: ChildHandle[] = [];
    const nc = await connect({ servers: server.url });
    const gateway = new ClusterMember(nc, {
      identity: { id: "gw-t", role: "gateway" },
      cluster: { prefix },
      sweeper: false,
    });
    try {
      await gateway.start();
      const alice = memberOf(gateway);
      children.push(await startNode(server.url, prefix, "first"));
      const router = new RoomRouter(nc, { prefix, totalWaitMs: 20_000 });
      const rang: unknown[] = [];
      nc.subscribe(`${prefix}.room.alarm.clock.ev`, {
        callback: (_e, msg) => {
          const decoded = decodeRoomEvent(msg.data);
          if (decoded.ok && decoded.frame.type === "rang") rang.push(eventBody(decoded.frame));
        },
      });
      await router.request("alarm", "clock", { k: InternalKind.Join, member: alice });
      const armed = await router.request("alarm", "clock", {
        k: InternalKind.Input,
        member: alice.id,
        seq: 1,
        type: "arm",
        body: { ms: 5000 },
      });
      expect(armed.k).toBe(InternalKind.Acked);
      children.push(await startNode(server.url, prefix, "second"));
      await children[0]!.kill("SIGKILL");
      // No frame is sent from here on: only re-homing can bring the room (and its timer) back.
      await until(() => rang.length > 0, 12_000, "the alarm rang on the surviving node");
      expect(rang).toHaveLength(1);
      expect((rang[0] as { late: number }).late).toBeGreaterThanOrEqual(5000);
    } finally {
      await gateway.stop();
      await nc.close();
      for (const child of children) await child.kill("SIGKILL").catch(() => undefined);
    }
  });

  test(`drain - SIGTERM of ${a} under load: nothing lost or doubled, it exits 0`, async () => {
    const prefix = testNamespace(`drain sigterm under load ${shape}`);
    const children: ChildHandle[] = [];
    const load = new LedgerLoad(server.url, prefix, 200);
    try {
      children.push(
        await startNode(server.url, prefix, "leaving"),
        await startNode(server.url, prefix, "staying"),
      );
      await load.start();
      const termAt = performance.now();
      await children[0]!.kill("SIGTERM");
      expect(await children[0]!.exited).toBe(0);
      await load.servingAfter(termAt);
      const worst = load.worstGapAfter(termAt);
      await load.stop();
      await load.verify();
      console.log(`drain: 200 rooms, longest unavailability during drain: ${Math.round(worst)} ms`);
    } finally {
      await load.close();
      for (const child of children) await child.kill("SIGKILL").catch(() => undefined);
    }
  });
});
