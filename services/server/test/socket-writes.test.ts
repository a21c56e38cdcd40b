import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { ClientKind, CloseCode, ServerKind } from "@rookery/protocol";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { newSession, RawClient } from "../../gateway/test/harness";
import { fixtures } from "../../node/test/nodes";
import type { RookeryServer } from "../src/index";
import { startServer } from "./servers";
import { WireClient } from "./wire-client";

// A burst is pipelined faster than any client rate limit allows.
const env = {
  ROOKERY_ROOM_MODULES: fixtures,
  ROOKERY_RATE_PER_SEC: "1000000",
  ROOKERY_BURST: "1000000",
};
const BURST = 300;
const room = { type: "eledger", id: "burst" };
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/**
 * The gateway coalesces the socket writes of one event-loop turn
 * (docs/gateway.md "Socket writes"): a burst must still arrive as one
 * WebSocket message per protocol frame, complete and in order, and nothing
 * may follow the close frame. The room lives on p1; a member on p2 makes p1
 * publish its events on NATS too, which p1's own gateway must not deliver
 * a second time.
 */
describe("socket writes", () => {
  let nats: NatsServer;
  const cleanup: (() => unknown)[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  async function server(prefix: string, id: string): Promise<RookeryServer> {
    const s = await startServer(nats.url, prefix, id, env);
    cleanup.push(() => s.stop());
    return s;
  }

  async function raw(s: RookeryServer, user: string, session?: string): Promise<RawClient> {
    const c = await RawClient.connect(s.gateway!.url, user, session);
    cleanup.push(() => c.close());
    return c;
  }

  function burst(sender: RawClient, from: number): void {
    for (let seq = from; seq < from + BURST; seq++) {
      sender.send({
        k: ClientKind.Input,
        room,
        seq,
        type: "add",
        body: { n: 1, tag: `t${seq}` },
      });
    }
  }

  test("socket writes - a burst to one socket arrives complete, in order, one frame per message, nothing after close", async () => {
    const prefix = testNamespace("socket writes burst");
    const s1 = await server(prefix, "p1");
    const s2 = await server(prefix, "p2");
    const sender = await raw(s1, "sender");
    await sender.join(room.type, room.id);
    expect(s1.node!.host.actor(room.type, room.id)).toBeDefined();
    const session = newSession();
    const watcher = await WireClient.connect(s1.gateway!.url, "watcher", session);
    cleanup.push(() => watcher.destroy());
    watcher.send({ k: ClientKind.Join, ref: 1, room });
    await until(() => watcher.server().some((f) => f.k === ServerKind.Joined), 5000, "joined");
    const remote = await raw(s2, "remote");
    await remote.join(room.type, room.id);

    burst(sender, 1);
    const totals = () => watcher.events("total").map((e) => e.body as number);
    await until(() => totals().length >= BURST, 10_000, "the whole burst reached the watcher");
    await until(() => remote.events("total").length >= BURST, 10_000, "and the remote member");
    // Every frame a whole message of its own, each event once, in order, on both paths.
    expect(watcher.frames.every((f) => f.fin)).toBe(true);
    expect(totals()).toEqual(range(1, BURST));
    expect(remote.events("total").map((e) => e.body)).toEqual(range(1, BURST));
    const seqs = watcher.server().flatMap((f) => (f.k === ServerKind.Event ? [f.seq] : []));
    expect(seqs).toEqual(range(seqs[0]!, seqs.length));
    const acks = sender.frames.flatMap((f) => (f.k === ServerKind.Ack ? [f.seq] : []));
    expect(acks).toEqual(range(1, BURST));

    // A second burst, and the watcher's connection replaced in the middle of it.
    burst(sender, BURST + 1);
    await until(() => totals().length >= BURST + 20, 10_000, "the second burst flowing");
    await raw(s1, "watcher", session);
    await until(() => watcher.ended, 10_000, "the replaced socket ended");
    const last = watcher.frames.at(-1)!;
    expect(last.opcode).toBe(0x8);
    expect(last.payload.readUInt16BE(0)).toBe(CloseCode.REPLACED);
    expect(watcher.trailing).toBe(0);
    // What came before the close is a prefix of the stream: nothing lost, nothing reordered.
    expect(totals()).toEqual(range(1, totals().length));
    await until(() => remote.events("total").length >= 2 * BURST, 10_000, "remote sees the rest");
    expect(remote.events("total").map((e) => e.body)).toEqual(range(1, 2 * BURST));
  });
});
