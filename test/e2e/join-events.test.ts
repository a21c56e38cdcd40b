import { describe, expect, it } from "vitest";
import { connect } from "@rookery/client";
import { testNamespace, until } from "@rookery/testkit";
import { serverPerFile } from "../../services/gateway/test/suite";
import { startNode } from "../../services/node/test/nodes";
import { RawClient, startGateway, token } from "../../services/gateway/test/harness";

const suite = serverPerFile();

describe("events to the joiner", () => {
  it("join - what onJoin sends the joiner arrives: in `joined.events` on the wire, as events through the SDK", async () => {
    const prefix = testNamespace("join events to the joiner");
    const node = await startNode(suite.server.url, prefix, "node-je");
    suite.defer(() => node.kill("SIGKILL"));
    const gw = await startGateway(suite.server.url, prefix, { id: "gw-je" });
    suite.defer(() => gw.stop());

    const alice = await connect({ url: gw.url, token: () => token("alice") });
    suite.defer(() => alice.close());
    const aRoom = await alice.join("party", "pj");
    await aRoom.send("add", { title: "Song 1" });

    // The party room's onJoin sends the joiner the queue (emitTo): on the wire…
    const raw = await RawClient.connect(gw.url, "carol");
    suite.defer(() => raw.close());
    const joined = await raw.join("party", "pj");
    expect(joined.mode).toBe("snapshot");
    expect(joined.events?.map((e) => e.type)).toEqual(["queue"]);
    expect(joined.events![0]!.seq).toBeLessThanOrEqual(joined.seq);
    expect(joined.events![0]!.body).toMatchObject({ items: [{ title: "Song 1" }] });
    // …addressed to the joiner only: alice got no copy of carol's queue.
    const aliceQueues: unknown[] = [];
    aRoom.onEvent("queue", (body) => aliceQueues.push(body));

    // …and through the SDK, to a listener attached right after `await join()`.
    const bob = await connect({ url: gw.url, token: () => token("bob") });
    suite.defer(() => bob.close());
    const bRoom = await bob.join("party", "pj");
    const queues: unknown[] = [];
    bRoom.onEvent("queue", (body) => queues.push(body));
    await until(() => queues.length === 1, 5000, "bob's queue from onJoin");
    expect(queues[0]).toMatchObject({ items: [{ title: "Song 1" }] });

    // Later events still come once each, after it.
    await aRoom.send("add", { title: "Song 2" });
    await until(() => queues.length === 2, 5000, "bob sees Song 2");
    expect(queues[1]).toMatchObject({ items: [{ title: "Song 1" }, { title: "Song 2" }] });
    expect(aliceQueues).toHaveLength(1);
  });
});
