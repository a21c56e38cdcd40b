import { describe, expect, it } from "vitest";
import { testNamespace, until, type ChildHandle } from "@rookery/testkit";
import { ClientKind, ErrorCode, type ServerFrame } from "@rookery/protocol";
import { startNode } from "../../node/test/nodes";
import type { Gateway, GatewayOptions } from "../src/index";
import { RawClient, startGateway } from "./harness";
import { serverPerFile } from "./suite";

/**
 * Lanes and routing under stalls (issue 10, findings 2-4): what a closed
 * socket leaves queued, what a failed join leaves armed, how long a stalled
 * room is waited for, and what a resent input is answered. A stalled room is
 * a node frozen with SIGSTOP: its inbox stays subscribed and nothing answers,
 * as during a JetStream leader election. The heartbeat TTL is long so a
 * freeze is not taken for a death.
 */
const suite = serverPerFile();
const TTL_MS = 30_000;

type Frame<K extends ServerFrame["k"]> = Extract<ServerFrame, { k: K }>;

async function node(prefix: string, id: string): Promise<ChildHandle> {
  const child = await startNode(suite.server.url, prefix, id, {
    ROOKERY_HEARTBEAT_TTL_MS: String(TTL_MS),
  });
  suite.defer(() => child.kill("SIGKILL"));
  return child;
}

async function gateway(prefix: string, options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway(suite.server.url, prefix, {
    heartbeatTtlMs: TTL_MS,
    ...options,
  });
  suite.defer(() => gw.stop());
  return gw;
}

async function client(gw: Gateway, user: string): Promise<RawClient> {
  const c = await RawClient.connect(gw.url, user);
  suite.defer(() => c.close());
  return c;
}

/** A frozen node is continued before the node is killed, whatever the test did. */
function freeze(child: ChildHandle): void {
  child.pause();
  suite.defer(() => child.resume());
}

function sendInput(c: RawClient, id: string, seq: number, body: unknown, type = "ledger"): void {
  c.send({ k: ClientKind.Input, room: { type, id }, seq, type: "add", body: body as never });
}

/** Every frame received so far was sent after the frames before the ping were dispatched. */
async function flushed(c: RawClient): Promise<void> {
  const t = Math.random();
  c.send({ k: ClientKind.Ping, t });
  await c.next((f) => f.k === "pong" && f.t === t);
}

const answers = (c: RawClient, seq: number) =>
  c.frames.filter((f) => (f.k === "ack" || f.k === "error") && f.seq === seq);

describe("gateway lanes", () => {
  it("gateway - a closed socket's queued inputs are dropped: only the one in flight reaches the room", async () => {
    const prefix = testNamespace("gateway - closed socket queued inputs");
    const n = await node(prefix, "node-q");
    const gw = await gateway(prefix);
    const observer = await client(gw, "observer");
    const player = await client(gw, "player");
    await observer.join("ledger", "q1");
    await player.join("ledger", "q1");

    freeze(n);
    sendInput(player, "q1", 1, { n: 1, tag: "a" });
    sendInput(player, "q1", 2, { n: 10, tag: "b" });
    await flushed(player);
    player.close();
    await until(() => gw.connectionCount === 1, 5000, "the player's socket closed");
    n.resume();

    // The input in flight when the socket closed may complete...
    await observer.next((f) => f.k === "event" && f.type === "total" && f.body === 1, 10_000);
    // ...but the one queued behind it is never sent: had the lane sent it, it
    // would have reached the room before this input (one NATS connection).
    const ack = await observer.input("ledger", "q1", "add", { n: 100, tag: "z" });
    expect(ack).toMatchObject({ k: "ack", result: 101 });
    expect(observer.events("total").map((e) => e.body)).toEqual([1, 101]);
  });

  it("gateway - a failed join arms no leave: the join retried on the same socket stays in", async () => {
    const prefix = testNamespace("gateway - failed join no leave");
    const n = await node(prefix, "node-j");
    const graceMs = 1000;
    const gw = await gateway(prefix, { totalWaitMs: 1500, reconnectGraceMs: graceMs });
    const observer = await client(gw, "observer");
    const player = await client(gw, "player");
    await observer.join("ledger", "j1");

    freeze(n);
    await expect(player.join("ledger", "j1")).rejects.toMatchObject({
      code: ErrorCode.ROOM_UNAVAILABLE,
    });
    const failedAt = performance.now();
    n.resume();
    await player.join("ledger", "j1");

    // Past the reconnect grace an armed "disconnected" leave would have fired.
    await until(() => performance.now() - failedAt > graceMs + 1000, 5000, "grace passed");
    const ack = await player.input("ledger", "j1", "add", { n: 1, tag: "p" });
    expect(ack).toMatchObject({ k: "ack", seq: 1 });
    expect(observer.memberIds("ledger/j1")).toContain(player.member);
    const leaves = observer.events("$leave").map((e) => e.body as { id: string; reason: string });
    // Whatever the failed join left at the room was cleaned up before the retry, never after.
    const lastJoin = observer.frames.findLastIndex(
      (f) =>
        f.k === "event" && f.type === "$join" && (f.body as { id: string }).id === player.member,
    );
    const lastLeave = observer.frames.findLastIndex(
      (f) =>
        f.k === "event" && f.type === "$leave" && (f.body as { id: string }).id === player.member,
    );
    expect(lastLeave).toBeLessThan(lastJoin);
    expect(leaves.filter((l) => l.id === player.member).length).toBeLessThanOrEqual(1);
  });

  it("gateway - an input to a room stalled 7 s is answered, not ROOM_UNAVAILABLE (a broker election rides out)", async () => {
    const prefix = testNamespace("gateway - stalled room rides out");
    const n = await node(prefix, "node-s");
    const gw = await gateway(prefix); // default wait
    const player = await client(gw, "player");
    await player.join("ledger", "s1");

    freeze(n);
    const frozenAt = performance.now();
    sendInput(player, "s1", 1, { n: 3, tag: "s" });
    await until(() => performance.now() - frozenAt > 7000, 10_000, "a 7 s stall");
    expect(answers(player, 1)).toEqual([]);
    n.resume();
    const answer = await player.next((f) => f.k === "ack" || f.k === "error", 10_000);
    expect(answer).toMatchObject({ k: "ack", seq: 1, result: 3 });
  });

  it("gateway - a truly unavailable room fails every queued input in bounded time", async () => {
    const prefix = testNamespace("gateway - unavailable room bounded");
    const n = await node(prefix, "node-u");
    const totalWaitMs = 1500;
    const gw = await gateway(prefix, { totalWaitMs });
    const player = await client(gw, "player");
    await player.join("ledger", "u1");

    freeze(n);
    const sentAt = performance.now();
    for (let seq = 1; seq <= 4; seq++) sendInput(player, "u1", seq, { n: seq, tag: `u${seq}` });
    await until(
      () => [1, 2, 3, 4].every((seq) => answers(player, seq).length > 0),
      15_000,
      "4 answers",
    );
    const elapsed = performance.now() - sentAt;
    for (let seq = 1; seq <= 4; seq++) {
      expect(answers(player, seq)[0]).toMatchObject({
        k: "error",
        code: ErrorCode.ROOM_UNAVAILABLE,
        room: { type: "ledger", id: "u1" },
        seq,
      });
    }
    // Each input waits for the room from when it arrived, not from when the one before it gave up.
    expect(elapsed).toBeLessThan(totalWaitMs + 1500);
  });

  it("gateway - a room stalled on one node does not hold the connection's inputs to another room", async () => {
    const prefix = testNamespace("gateway - stalled room other rooms");
    const first = await node(prefix, "node-a");
    const gw = await gateway(prefix);
    const player = await client(gw, "player");
    await player.join("ledger", "stuck");
    await node(prefix, "node-b");
    freeze(first);
    // Placement now ends on the node that still answers.
    await player.join("ledger", "free");

    sendInput(player, "stuck", 1, { n: 1, tag: "stuck" });
    const free = await player.input("ledger", "free", "add", { n: 2, tag: "free" }, 2);
    expect(free).toMatchObject({ k: "ack", seq: 2, result: 2 });
    expect(answers(player, 1)).toEqual([]);
    first.resume();
    const stuck = await player.next((f) => f.k === "ack" && f.seq === 1, 10_000);
    expect(stuck).toMatchObject({ k: "ack", room: { type: "ledger", id: "stuck" }, result: 1 });
  });

  it("gateway - a resent input gets its original outcome: dup ack with the result, INPUT_REJECTED with room and seq", async () => {
    const prefix = testNamespace("gateway - resend original outcome");
    await node(prefix, "node-d");
    const gw = await gateway(prefix);
    const player = await client(gw, "player");
    await player.join("ledger", "d1");

    expect(await player.input("ledger", "d1", "add", { n: 5, tag: "once" }, 1)).toMatchObject({
      k: "ack",
      result: 5,
    });
    sendInput(player, "d1", 1, { n: 5, tag: "once" });
    await until(() => answers(player, 1).length === 2, 5000, "the resend answered");
    expect(answers(player, 1)[1]).toEqual({
      k: "ack",
      room: { type: "ledger", id: "d1" },
      seq: 1,
      result: 5,
      dup: true,
    } satisfies Frame<"ack">);

    const rejected = await player.input("ledger", "d1", "add", { n: "not a number" }, 2);
    expect(rejected).toMatchObject({
      k: "error",
      code: ErrorCode.INPUT_REJECTED,
      room: { type: "ledger", id: "d1" },
      seq: 2,
    });
    sendInput(player, "d1", 2, { n: 7, tag: "now valid" });
    await until(() => answers(player, 2).length === 2, 5000, "the rejected resend answered");
    expect(answers(player, 2)[1]).toMatchObject({
      k: "error",
      code: ErrorCode.INPUT_REJECTED,
      room: { type: "ledger", id: "d1" },
      seq: 2,
      message: (rejected as Frame<"error">).message,
    });
    // Neither resend took effect.
    const later = await player.input("ledger", "d1", "add", { n: 1, tag: "after" }, 3);
    expect(later).toMatchObject({ k: "ack", result: 6 });
  });
});
