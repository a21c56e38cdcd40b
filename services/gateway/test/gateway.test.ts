import { describe, expect, it } from "vitest";
import { serverPerFile } from "./suite";
import { testNamespace, until, type ChildHandle } from "@rookery/testkit";
import { startNode } from "../../node/test/nodes";
import { ClientKind } from "@rookery/protocol";
import type { Gateway } from "../src/index";
import { RawClient, startGateway } from "./harness";

const suite = serverPerFile();

async function cluster(title: string, nodes: number, gateways: number) {
  const prefix = testNamespace(title);
  const nodeHandles: ChildHandle[] = [];
  const gatewayHandles: Gateway[] = [];
  for (let i = 0; i < nodes; i++) {
    const node = await startNode(suite.server.url, prefix, `node-${i}`);
    nodeHandles.push(node);
    suite.defer(() => node.kill("SIGKILL"));
  }
  for (let i = 0; i < gateways; i++) {
    const gateway = await startGateway(suite.server.url, prefix, { id: `gw-${i}` });
    gatewayHandles.push(gateway);
    suite.defer(() => gateway.stop());
  }
  return { prefix, nodes: nodeHandles, gateways: gatewayHandles };
}

async function client(gateway: Gateway, user: string): Promise<RawClient> {
  const c = await RawClient.connect(gateway.url, user);
  suite.defer(() => c.close());
  return c;
}

describe("gateway", () => {
  it("gateway - join, input, ack and events through one gateway and one node", async () => {
    const { gateways } = await cluster("gateway - join input ack events", 1, 1);
    const alice = await client(gateways[0]!, "alice");
    const joined = await alice.join("party", "r1");
    expect(joined.mode).toBe("snapshot");
    expect(joined.members.map((m) => m.id)).toEqual([alice.member]);
    expect(joined.leader).toBe(alice.member);

    const ack = await alice.input("party", "r1", "add", { title: "Song 1" });
    expect(ack).toMatchObject({ k: "ack", seq: 1, result: { id: "item-1" } });
    const queue = await alice.next(
      (f) => f.k === "event" && f.type === "queue" && f.seq > joined.seq,
    );
    expect(queue).toMatchObject({ body: { items: [{ title: "Song 1" }] } });

    const bob = await client(gateways[0]!, "bob");
    await bob.join("party", "r1");
    await until(() => alice.memberIds("party/r1").length === 2, 5000, "alice sees bob");
    expect(alice.memberIds("party/r1")).toEqual([alice.member, bob.member].sort());

    // One event subscription per room with local members, dropped with the last one.
    expect(gateways[0]!.roomCount).toBe(1);
    for (const [i, c] of [alice, bob].entries()) {
      c.send({ k: ClientKind.Leave, ref: 100 + i, room: { type: "party", id: "r1" } });
      await c.next((f) => f.k === "left" && f.ref === 100 + i);
    }
    expect(gateways[0]!.roomCount).toBe(0);
  });

  it("gateway - clients on two gateways see the same events in the same order", async () => {
    const { gateways } = await cluster("gateway - same events same order", 2, 2);
    const clients = await Promise.all(
      ["a", "b", "c", "d"].map((user, i) => client(gateways[i % 2]!, user)),
    );
    for (const c of clients) await c.join("party", "shared");
    await Promise.all(
      clients.map(async (c, i) => {
        for (let n = 0; n < 10; n++)
          await c.input("party", "shared", "add", { title: `${i}-${n}` });
      }),
    );
    // Events after the last join are the ones every member was sent: one queue per input.
    const fromSeq = Math.max(
      ...clients.map((c) => (c.frames.find((f) => f.k === "joined") as { seq: number }).seq),
    );
    const shared = (c: RawClient) =>
      c
        .events("queue")
        .filter((e) => e.seq > fromSeq)
        .map((e) => `${e.seq}:${JSON.stringify(e.body)}`);
    // Acks come before other members' gateways have fanned the last events out.
    await until(
      () => clients.every((c) => shared(c).length === 40),
      5000,
      "everyone saw all 40 queue events",
    );
    const reference = shared(clients[0]!);
    for (const c of clients) expect(shared(c)).toEqual(reference);
  });
});
