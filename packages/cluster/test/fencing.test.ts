import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeAny, encodeRecord, FencedKey } from "@rookery/cluster/internal";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { Members } from "./helpers";

const KEY = "room.lost-ack";

/**
 * A fenced write whose acknowledgement is lost (the broker stalls past the
 * client's timeout, then stores it) must not read as lost ownership on the
 * next write: a room's snapshot writer retries after a timeout, and used to
 * stop its room (OWNERSHIP_LOST) when the timed-out write had landed.
 */
describe("fencing", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A fence on KEY whose first write times out while the broker is stopped, then lands. */
  async function lostAck(members: Members) {
    const member = await members.start("a", "node", { opTimeoutMs: 300 }, { sweeper: false });
    const kv = member.buckets.state;
    const fence = new FencedKey(kv, KEY, await kv.put(KEY, encodeRecord({ n: 0 })), () => true);
    server.pause();
    // Written to the socket; the stopped broker reads it only once resumed.
    await expect(fence.write(encodeRecord({ n: 1 }))).rejects.toThrow();
    server.resume();
    const read = async () => decodeAny((await kv.get(KEY))!.value) as { n: number };
    await until(async () => (await read()).n === 1, 5000, "the timed-out write landed");
    return { kv, fence, read };
  }

  test("fencing - a write whose acknowledgement was lost is recognised by the next write, not taken for lost ownership", async () => {
    const members = new Members(server.url, testNamespace("fencing lost ack"));
    try {
      const { kv, fence, read } = await lostAck(members);
      const revision = await fence.write(encodeRecord({ n: 2 }));
      expect(fence.lost).toBe(false);
      expect((await kv.get(KEY))!.revision).toBe(revision);
      expect(await read()).toEqual({ n: 2 });
    } finally {
      await members.close();
    }
  });

  test("fencing - after a lost acknowledgement, another writer's write still ends the fence", async () => {
    const members = new Members(server.url, testNamespace("fencing lost ack other writer"));
    try {
      const { kv, fence, read } = await lostAck(members);
      await kv.put(KEY, encodeRecord({ n: 99 }));
      await expect(fence.write(encodeRecord({ n: 2 }))).rejects.toMatchObject({
        code: "OWNERSHIP_LOST",
      });
      expect(fence.lost).toBe(true);
      expect(await read()).toEqual({ n: 99 });
    } finally {
      await members.close();
    }
  });
});
