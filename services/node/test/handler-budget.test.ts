import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect } from "@nats-io/transport-node";
import { RoomRouter } from "@rookery/cluster";
import { InternalKind, type RoomReply } from "@rookery/protocol/internal";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { startNode } from "./nodes";

const member = {
  id: "alice:session-alice-00000001",
  user: "alice",
  name: "alice",
  gateway: "gw-test",
  gatewayEpoch: "e0",
  conn: "c-alice",
};

describe("handler budget in a node process", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("budget - a 2 s loop in a node process is cut off and rejected; another room is served meanwhile", async () => {
    const prefix = testNamespace("handler budget node process");
    const node: ChildHandle = await startNode(server.url, prefix, "budget");
    const nc = await connect({ servers: server.url });
    try {
      const router = new RoomRouter(nc, { prefix, totalWaitMs: 10_000 });
      const send = (type: string, id: string, seq: number, kind: string, body: unknown) =>
        router.request(type, id, {
          k: InternalKind.Input,
          member: member.id,
          seq,
          type: kind,
          body: body as never,
        });
      for (const [type, id] of [
        ["flaky", "bad"],
        ["ledger", "good"],
      ] as const) {
        expect((await router.request(type, id, { k: InternalKind.Join, member })).k).toBe(
          InternalKind.Joined,
        );
      }
      const started = performance.now();
      const spin = send("flaky", "bad", 1, "spin", { ms: 2000 });
      const good = await Promise.all(
        [1, 2, 3].map((seq) => send("ledger", "good", seq, "add", { n: 1, tag: `g${seq}` })),
      );
      const goodMs = performance.now() - started;
      expect(good.map((r) => r.k)).toEqual([
        InternalKind.Acked,
        InternalKind.Acked,
        InternalKind.Acked,
      ]);
      const spun = (await spin) as Extract<RoomReply, { k: "err" }>;
      expect(spun).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
      expect(spun.message).toMatch(/interrupted/);
      // The loop was cut at its budget (250 ms), not run for its 2 s.
      expect(goodMs).toBeLessThan(1000);
      // The room kept its previous state.
      const inc = await send("flaky", "bad", 2, "inc", null);
      expect(inc).toMatchObject({ k: InternalKind.Acked, result: 1 });
    } finally {
      await nc.close();
      await node.kill("SIGKILL").catch(() => undefined);
    }
  });
});
