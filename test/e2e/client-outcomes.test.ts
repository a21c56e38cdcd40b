import { describe, expect, it } from "vitest";
import { serverPerFile } from "../../services/gateway/test/suite";
import { connect, ErrorCode, type RookeryClient } from "@rookery/client";
import { testNamespace } from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { newSession, RawClient, startGateway, token } from "../../services/gateway/test/harness";

const suite = serverPerFile();

/**
 * A raw connection of session `session` sends seq 1 and goes away; an SDK
 * client of the same session then sends its own first input, seq 1 again:
 * for the room that is a resend, answered with the original outcome.
 */
async function firstSeqTaken(
  user: string,
  room: string,
  body: unknown,
): Promise<{ session: string; first: Awaited<ReturnType<RawClient["input"]>>; url: string }> {
  const prefix = testNamespace(`client - outcome ${room}`);
  const node = await startNode(suite.server.url, prefix, `node-${room}`);
  suite.defer(() => node.kill("SIGKILL"));
  const gw = await startGateway(suite.server.url, prefix, { id: `gw-${room}` });
  suite.defer(() => gw.stop());
  const session = newSession();
  const raw = await RawClient.connect(gw.url, user, session);
  await raw.join("ledger", room);
  const first = await raw.input("ledger", room, "add", body, 1);
  raw.close();
  await raw.closed();
  return { session, first, url: gw.url };
}

async function sdkClient(url: string, user: string, session: string): Promise<RookeryClient> {
  const c = await connect({ url, token: () => token(user), session });
  suite.defer(() => c.close());
  return c;
}

describe("client, outcome-carrying dedupe (needs the room actor's outcome window)", () => {
  it("client - a resent seq resolves with the original result and has no second effect", async () => {
    const { session, first, url } = await firstSeqTaken("olga", "oc1", { n: 5, tag: "first" });
    expect(first).toMatchObject({ k: "ack", seq: 1, result: 5 });
    const c = await sdkClient(url, "olga", session);
    const room = await c.join("ledger", "oc1");
    expect(await room.send("add", { n: 1, tag: "resend" })).toBe(5);
    expect((room.state as { applied: string[] }).applied).toEqual(["first"]);
    expect(await room.send("add", { n: 1, tag: "next" })).toBe(6);
  });

  it("client - a resent seq that was rejected rejects again with the original INPUT_REJECTED", async () => {
    const { session, first, url } = await firstSeqTaken("pia", "oc2", { n: "not a number" });
    expect(first).toMatchObject({ k: "error", code: ErrorCode.INPUT_REJECTED, seq: 1 });
    const c = await sdkClient(url, "pia", session);
    const room = await c.join("ledger", "oc2");
    await expect(room.send("add", { n: 1, tag: "resend" })).rejects.toMatchObject({
      code: ErrorCode.INPUT_REJECTED,
      message: (first as { message: string }).message,
    });
    expect((room.state as { applied: string[] }).applied).toEqual([]);
  });
});
