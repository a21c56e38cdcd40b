import { afterEach, describe, expect, test } from "vitest";
import { ClientKind } from "@rookery/protocol";
import { RookeryClient, type ClientOptions } from "@rookery/client";
import { until } from "@rookery/testkit";
import { answer, FakeGateway, silentOnInputs } from "./fake-gateway";

const ACK_DEADLINE_MS = 300;
const PING_DEADLINE_MS = 200;

const clients: RookeryClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function open(gateway: FakeGateway, extra: ClientOptions = {}): Promise<RookeryClient> {
  const c = new RookeryClient({
    url: "ws://fake",
    token: "t",
    WebSocket: gateway.WebSocket,
    backoffBaseMs: 10,
    backoffCapMs: 50,
    ackDeadlineMs: ACK_DEADLINE_MS,
    pingDeadlineMs: PING_DEADLINE_MS,
    ...extra,
  });
  clients.push(c);
  await c.start();
  return c;
}

describe("client: frozen gateway detection", () => {
  test("watchdog - an overdue ack and an unanswered ping: the client drops the socket and re-sends elsewhere", async () => {
    const gateway = new FakeGateway();
    const c = await open(gateway);
    const room = await c.join("t", "r");
    const reasons: (string | undefined)[] = [];
    c.on("reconnecting", ({ reason }) => reasons.push(reason));
    gateway.last.frozen = true;
    const frozenAt = Date.now();
    const sent = room.send("x", 1);
    await until(() => reasons.length === 1, 2000, "frozen gateway noticed");
    const noticedMs = Date.now() - frozenAt;
    expect(reasons).toEqual(["gateway unresponsive"]);
    expect(noticedMs).toBeGreaterThanOrEqual(ACK_DEADLINE_MS + PING_DEADLINE_MS - 10);
    expect(noticedMs).toBeLessThan(ACK_DEADLINE_MS + PING_DEADLINE_MS + 400);
    expect(gateway.sockets[0]!.closedBy).toBeDefined();
    expect(await sent).toEqual({ seq: 1 });
    expect(gateway.inputSeqs(1)).toEqual([1]);
  });

  test("watchdog - a slow room behind a live gateway is no reason to reconnect", async () => {
    const gateway = new FakeGateway();
    const c = await open(gateway);
    const room = await c.join("t", "r");
    gateway.handle = silentOnInputs;
    const sent = room.send("x", 1);
    await until(() => gateway.frames(ClientKind.Ping).length >= 2, 3000, "probed twice");
    expect(c.state).toBe("open");
    expect(gateway.sockets).toHaveLength(1);
    gateway.handle = answer;
    gateway.last.push({ k: "ack", room: room.ref, seq: 1, result: "late" });
    expect(await sent).toBe("late");
  });

  test("watchdog - a join without an answer is watched too", async () => {
    const gateway = new FakeGateway();
    const c = await open(gateway);
    gateway.last.frozen = true;
    const joining = c.join("t", "r");
    expect((await joining).status).toBe("joined");
    expect(gateway.sockets).toHaveLength(2);
    expect(gateway.frames(ClientKind.Join, 1)).toHaveLength(1);
  });
});
