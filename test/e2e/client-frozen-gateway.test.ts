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
import {
  roomOwner,
  shapes,
  startGatewayRoleProcess,
  type Shape,
} from "../../services/server/test/shapes";

const INPUTS = 5;
/** ackDeadlineMs + pingDeadlineMs (2.5 s) plus room for a loaded machine's timers. */
const NOTICE_BUDGET_MS = 4000;

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

// Co-located, the frozen process also hosts the room (placed where its first
// joiner is): the inputs are acked once the room re-homed to the other process.
describe.each(shapes)("client, frozen gateway (%s)", (shape: Shape) => {
  const [fa, fb] = shape === "split" ? ["gw-fa", "gw-fb"] : ["p-fa", "p-fb"];
  const title =
    shape === "split"
      ? "client - SIGSTOP of its gateway with inputs outstanding: noticed in ~2.5 s, inputs acked through the other gateway, once"
      : "client - SIGSTOP of its co-located process (gateway and room owner) with inputs outstanding: noticed in ~2.5 s, inputs acked by the room re-homed to the other process, once";
  it(title, async () => {
    const prefix = testNamespace(`client - frozen gateway ${shape}`);
    const children: ChildHandle[] = [];
    const clients: RookeryClient[] = [];
    try {
      if (shape === "split") children.push(await startNode(server.url, prefix, "node-fz"));
      const gateways = [
        await startGatewayRoleProcess(shape, server.url, prefix, fa),
        await startGatewayRoleProcess(shape, server.url, prefix, fb),
      ];
      children.push(...gateways.map((g) => g.child));
      const discoveryUrl = gateways.map((g) => `http://127.0.0.1:${g.port}`);
      const client = await connect({
        url: gateways[0]!.url,
        discoveryUrl,
        token: () => token("frozen"),
        backoffBaseMs: 100,
        backoffCapMs: 500,
      });
      clients.push(client);
      // Pinned to the first process for the first connection; reconnects discover.
      (client.options as { url?: string }).url = undefined;
      const room = await client.join("ledger", "fz");
      expect(await room.send("add", { n: 1, tag: "before" })).toBe(1);
      expect(client.gateway).toBe(fa);
      if (shape === "co-located")
        expect(await roomOwner(server.url, prefix, "ledger", "fz")).toBe(fa);

      const reasons: string[] = [];
      let noticedAt = 0;
      client.on("reconnecting", ({ reason }) => {
        reasons.push(reason ?? "");
        noticedAt ||= performance.now();
      });
      gateways[0]!.child.pause();
      const frozenAt = performance.now();
      const sent = Array.from({ length: INPUTS }, (_, i) =>
        room.send("add", { n: 1, tag: `during-${i}` }),
      );
      await until(() => noticedAt > 0, 10_000, "the client notices the frozen gateway");
      const results = await Promise.all(sent);
      const backAt = performance.now();
      const noticedMs = Math.round(noticedAt - frozenAt);
      const ackedMs = Math.round(backAt - frozenAt);
      console.log(JSON.stringify({ test: "client-frozen-gateway", noticedMs, ackedMs }));

      expect(reasons[0]).toBe("gateway unresponsive");
      expect(noticedMs).toBeLessThan(NOTICE_BUDGET_MS);
      expect(client.gateway).toBe(fb);
      expect(results).toEqual([2, 3, 4, 5, 6]);
      expect(await room.send("add", { n: 1, tag: "after" })).toBe(7);
      if (shape === "co-located")
        expect(await roomOwner(server.url, prefix, "ledger", "fz")).toBe(fb);

      // Exactly once, in order: what a fresh member sees in the room's state.
      // Straight to the other process: discovery may still offer the frozen gateway until its heartbeat expires.
      const auditor = await connect({ url: gateways[1]!.url, token: () => token("a") });
      clients.push(auditor);
      const view = await auditor.join("ledger", "fz");
      const tags = Array.from({ length: INPUTS }, (_, i) => `during-${i}`);
      expect((view.state as { applied: string[] }).applied).toEqual(["before", ...tags, "after"]);
    } finally {
      for (const c of clients) c.close();
      for (const child of children) await child.kill("SIGKILL").catch(() => undefined);
    }
  });
});
