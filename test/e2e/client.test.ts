import { describe, expect, it } from "vitest";
import { serverPerFile } from "../../services/gateway/test/suite";
import { connect, ErrorCode, QueueFullError, type RookeryClient } from "@rookery/client";
import { startNatsServer, testNamespace, until } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGateway, token } from "../../services/gateway/test/harness";

const suite = serverPerFile();

async function client(
  discoveryUrl: string | string[],
  user: string,
  extra = {},
): Promise<RookeryClient> {
  const c = await connect({
    discoveryUrl,
    token: () => token(user),
    backoffBaseMs: 50,
    backoffCapMs: 500,
    ...extra,
  });
  suite.defer(() => c.close());
  return c;
}

describe("client sdk", () => {
  it("client - joins through discovery, sends, sees members, leader and events", async () => {
    const prefix = testNamespace("client - join send members");
    const node = await startNode(suite.server.url, prefix, "node-c1");
    suite.defer(() => node.kill("SIGKILL"));
    const gw = await startGateway(suite.server.url, prefix, { id: "gw-c1" });
    suite.defer(() => gw.stop());
    const http = `http://127.0.0.1:${gw.port}`;

    const alice = await client(http, "alice");
    expect(alice.state).toBe("open");
    const aRoom = await alice.join("party", "p1");
    expect(aRoom.members.map((m) => m.id)).toEqual([alice.member]);
    expect(aRoom.leader).toBe(alice.member);

    const bob = await client(http, "bob");
    const bRoom = await bob.join("party", "p1");
    await until(() => aRoom.members.length === 2, 5000, "alice sees bob");

    const queues: unknown[] = [];
    bRoom.onEvent("queue", (body) => queues.push(body));
    expect(await aRoom.send("add", { title: "Song 1" })).toEqual({ id: "item-1" });
    // The party room's onJoin sends the joiner the queue (still empty), then the add's.
    await until(() => queues.length === 2, 5000, "bob sees the queue");
    expect(queues[0]).toMatchObject({ items: [] });
    expect(queues[1]).toMatchObject({ items: [{ title: "Song 1" }] });

    await expect(bRoom.send("skip", {})).rejects.toMatchObject({ code: ErrorCode.INPUT_REJECTED });
    await aRoom.leave();
    await until(() => bRoom.leader === bob.member, 5000, "bob leads");
    expect(bRoom.members.map((m) => m.id)).toEqual([bob.member]);
  });

  it("client - inputs sent while offline are delivered after reconnect; a full queue rejects with QUEUE_FULL", async () => {
    const prefix = testNamespace("client - offline queue");
    const node = await startNode(suite.server.url, prefix, "node-c2");
    suite.defer(() => node.kill("SIGKILL"));
    let gw = await startGateway(suite.server.url, prefix, { id: "gw-c2" });
    const port = gw.port;
    suite.defer(() => gw.stop());
    const c = await client(`http://127.0.0.1:${port}`, "carol", { maxQueuedInputs: 5 });
    const room = await c.join("party", "offline");

    await gw.stop();
    await until(() => c.state === "reconnecting", 10_000, "client notices");
    const sent = ["a", "b", "c", "d", "e"].map((title) => room.send("add", { title }));
    await expect(room.send("add", { title: "f" })).rejects.toBeInstanceOf(QueueFullError);

    gw = await startGateway(suite.server.url, prefix, { id: "gw-c2b", port });
    const results = await Promise.all(sent);
    expect(results.map((r) => (r as { id: string }).id)).toEqual([
      "item-1",
      "item-2",
      "item-3",
      "item-4",
      "item-5",
    ]);
    expect(c.state).toBe("open");
    const view = await room.send("move", { id: "item-1", to: 0 });
    expect(view).toMatchObject({ id: "item-1" });
  });
});

describe("client sdk, broker loss", () => {
  it("client - broker loss: the gateway closes sockets, clients resume once the broker returns, nothing lost", async () => {
    const own = await startNatsServer();
    suite.defer(() => own.stop());
    const prefix = testNamespace("client - broker loss");
    const node = await startNode(own.url, prefix, "node-bl");
    suite.defer(() => node.kill("SIGKILL"));
    const gw = await startGateway(own.url, prefix, { id: "gw-bl" });
    suite.defer(() => gw.stop());
    // Below the test timeout: an input the cluster loses fails with its seq instead of hanging.
    const c = await client(`http://127.0.0.1:${gw.port}`, "dora", {
      url: gw.url,
      inputTimeoutMs: 30_000,
    });
    const room = await c.join("ledger", "bl");
    expect(await room.send("add", { n: 1, tag: "before" })).toBe(1);

    await own.kill();
    const during = room.send("add", { n: 1, tag: "during" });
    await until(() => c.state === "reconnecting", 10_000, "the gateway closed the socket");
    await own.restart();
    await until(() => c.state === "open", 20_000, "client back");
    // The input sent while the broker was down takes effect once: either the
    // resend after the resume applies it, or the gateway's own retry got
    // there first and the resend is answered as a duplicate carrying the
    // original result (protocol.md §6). Either way the result is 2.
    expect(await during).toBe(2);
    expect(await room.send("add", { n: 1, tag: "after" })).toBe(3);
    expect(room.members.map((m) => m.id)).toEqual([c.member]);
  });
});
