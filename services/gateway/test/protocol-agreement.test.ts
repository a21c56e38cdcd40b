/**
 * The points where docs/protocol.md and the gateway disagreed (issue 12),
 * each with the answer both now give, through a real gateway: the first
 * frame and pipelining before `welcome` (§3), the limits `welcome`
 * announces (§4, §9), what a flood gets (§9, §10, §14), `exclude` naming
 * every live gateway (§13), and NaN/±Infinity in application data (§1).
 * The error and close tables themselves are covered by conformance.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testNamespace, until, type ChildHandle } from "@rookery/testkit";
import {
  ClientKind,
  encodeFrame,
  ErrorCode,
  type ClientFrame,
  type ServerFrame,
} from "@rookery/protocol";
import { startNode } from "../../node/test/nodes";
import type { Gateway, GatewayOptions } from "../src/index";
import { newSession, RawClient, startGateway, token } from "./harness";
import { serverPerFile } from "./suite";

const suite = serverPerFile();
const prefix = testNamespace("protocol - agreement");
let node: ChildHandle;

beforeAll(async () => {
  node = await startNode(suite.server.url, prefix, "node-agreement");
});
afterAll(async () => {
  await node?.kill("SIGKILL");
});

async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway(suite.server.url, prefix, options);
  suite.defer(() => gw.stop());
  return gw;
}

async function raw(gw: Gateway): Promise<RawClient> {
  const c = await RawClient.open(gw.url);
  suite.defer(() => c.close());
  return c;
}

async function client(gw: Gateway, user: string): Promise<RawClient> {
  const c = await RawClient.connect(gw.url, user);
  suite.defer(() => c.close());
  return c;
}

const hello = async (user: string) =>
  encodeFrame({ k: ClientKind.Hello, v: 1, token: await token(user), session: newSession() });

/** Writes the messages in one TCP segment: the gateway reads them before it verifies the token. */
function pipeline(c: RawClient, frames: (ClientFrame | Uint8Array)[]): void {
  const socket = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  socket.cork();
  for (const f of frames) c.sendRaw(f instanceof Uint8Array ? f : encodeFrame(f));
  socket.uncork();
}

const kinds = (c: RawClient) => c.frames.map((f) => (f.k === "error" ? `error ${f.code}` : f.k));
const count = (c: RawClient, test: (f: ServerFrame) => boolean) => c.frames.filter(test).length;

describe("protocol - §3 the first frame and frames before welcome", () => {
  it("protocol - whatever the first message, if not a hello: one NOT_AUTHENTICATED, close 4003, nothing else", async () => {
    const gw = await gateway({ limits: { maxFrameBytes: 1024 } });
    const firsts: (Uint8Array | string)[] = [
      encodeFrame({ k: "teleport" } as never),
      Uint8Array.of(0x93, 0x01, 0x02, 0x03),
      Uint8Array.of(0xc1),
      "text",
      new Uint8Array(1500),
    ];
    for (const first of firsts) {
      const c = await raw(gw);
      c.sendRaw(first);
      expect(await c.closed()).toBe(4003);
      expect(kinds(c)).toEqual(["error NOT_AUTHENTICATED"]);
    }
  });

  it("protocol - frames pipelined after hello are served in order once welcome is sent", async () => {
    const gw = await gateway();
    const c = await raw(gw);
    const room = { type: "party", id: "pipelined" };
    pipeline(c, [
      await hello("eager"),
      { k: ClientKind.Join, ref: 1, room },
      { k: ClientKind.Input, room, seq: 1, type: "add", body: { title: "first" } },
      { k: ClientKind.Ping, t: 7 },
    ]);
    // The join is served before the input (which is acked, not NOT_JOINED); the
    // ping is answered at once, while the room requests take their round trip.
    const ack = await c.next((f) => f.k === "ack" || f.k === "error");
    expect(ack).toMatchObject({ k: "ack", seq: 1, result: { id: "item-1" } });
    const order = kinds(c).filter((k) => k !== "event");
    expect(order).toEqual(["welcome", "pong", "joined", "ack"]);
  });

  it("protocol - frames pipelined after a refused hello are dropped unanswered", async () => {
    const gw = await gateway();
    const c = await raw(gw);
    const forged = encodeFrame({
      k: ClientKind.Hello,
      v: 1,
      token: `${(await token("eve")).slice(0, -4)}AAAA`,
      session: newSession(),
    });
    pipeline(c, [forged, { k: ClientKind.Ping, t: 1 }, { k: "teleport" } as never]);
    expect(await c.closed()).toBe(4001);
    expect(kinds(c)).toEqual(["error AUTH_FAILED"]);
  });

  it("protocol - exactly burst frames may be pipelined; one more is a flood (RATE_LIMITED, 4008)", async () => {
    const gw = await gateway({ limits: { burst: 4 } });
    const pings = (n: number) => Array.from({ length: n }, (_, t) => ({ k: "ping", t }) as const);
    const fits = await raw(gw);
    pipeline(fits, [await hello("fits"), ...pings(4)]);
    await until(() => count(fits, (f) => f.k === "pong") === 4, 5000, "four pongs");
    expect(kinds(fits)).toEqual(["welcome", "pong", "pong", "pong", "pong"]);

    const floods = await raw(gw);
    pipeline(floods, [await hello("floods"), ...pings(5)]);
    expect(await floods.closed()).toBe(4008);
    expect(kinds(floods)).toEqual(["error RATE_LIMITED"]);
  });
});

describe("protocol - §9 limits announced and enforced", () => {
  it("protocol - welcome announces every per-connection limit the gateway enforces", async () => {
    const limits = {
      maxFrameBytes: 4096,
      maxRooms: 3,
      ratePerSec: 40,
      burst: 60,
      heartbeatMs: 5000,
      idleTimeoutMs: 20_000,
      maxErrorsPerMinute: 12,
      maxDepth: 8,
    };
    const gw = await gateway({ limits });
    const c = await client(gw, "reader");
    const { heartbeatMs, ...announced } = limits;
    const welcome = c.frames.find((f) => f.k === "welcome");
    expect(welcome).toMatchObject({ heartbeatMs, limits: announced });

    // maxDepth as announced: the frame map plus 7 levels passes, one more is BAD_FRAME.
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    const room = { type: "party", id: "deep" };
    await c.join("party", "deep");
    const input = (seq: number, levels: number) =>
      encodeFrame({ k: "input", room, seq, type: "add", body: nest(levels) } as never);
    c.sendRaw(input(1, 7));
    expect(await c.next((f) => f.k === "error" && f.seq === 1)).toMatchObject({
      code: ErrorCode.INPUT_REJECTED,
    });
    c.sendRaw(input(2, 8));
    await c.next((f) => f.k === "error" && f.code === ErrorCode.BAD_FRAME);
  });

  it("protocol - a flood at the default limits: 100 pongs (plus the refill), 31 RATE_LIMITED, then 4008 (§14)", async () => {
    const gw = await gateway();
    const c = await client(gw, "flooder");
    const pings = Array.from({ length: 140 }, (_, t) => ({ k: ClientKind.Ping, t }));
    const sentAt = performance.now();
    pipeline(c, pings);
    expect(await c.closed()).toBe(4008);
    const elapsedMs = performance.now() - sentAt;
    const limited = count(c, (f) => f.k === "error" && f.code === ErrorCode.RATE_LIMITED);
    const pongs = count(c, (f) => f.k === "pong");
    expect(limited).toBe(31);
    // The bucket holds 100 and refills at 50/s while the 140 frames are read
    // (one token per 20 ms: a loaded machine reads them in more than 20 ms).
    expect(pongs).toBeGreaterThanOrEqual(100);
    expect(pongs).toBeLessThanOrEqual(100 + Math.ceil((elapsedMs * 50) / 1000));
    expect(c.frames.at(-1)).toMatchObject({ k: "error", code: ErrorCode.RATE_LIMITED });
  });
});

describe("protocol - §13 discovery", () => {
  it("protocol - exclude naming every live gateway answers 503; naming some answers another", async () => {
    const a = await gateway({ id: "gw-agree-a" });
    const b = await gateway({ id: "gw-agree-b" });
    const discover = async (query: string) => {
      const res = await fetch(`http://127.0.0.1:${a.port}/discover?${query}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await until(
      async () => (await discover("exclude=gw-agree-a")).body.gateway === "gw-agree-b",
      10_000,
      "both gateways live",
    );
    expect(await discover("exclude=gw-agree-b")).toMatchObject({
      status: 200,
      body: { gateway: "gw-agree-a", url: a.url },
    });
    for (const query of [
      "exclude=gw-agree-a,gw-agree-b",
      "exclude=gw-agree-a&exclude=gw-agree-b",
    ]) {
      expect(await discover(query)).toEqual({
        status: 503,
        body: { error: "no gateway available" },
      });
    }
    expect(b.url).not.toBe(a.url);
  });
});

describe("protocol - §1 NaN and ±Infinity in application data", () => {
  it("protocol - rejected with INVALID_FIELD and their path; the room never sees them", async () => {
    const gw = await gateway();
    const player = await client(gw, "player");
    const observer = await client(gw, "observer");
    await observer.join("party", "finite");
    await player.join("party", "finite");
    const before = observer.events().length;
    const bodies: [unknown, string][] = [
      [{ title: NaN }, "body.title"],
      [{ title: "x", tags: [1, Infinity] }, "body.tags[1]"],
      [-Infinity, "body"],
    ];
    let seq = 0;
    for (const [body, path] of bodies) {
      const answer = await player.input("party", "finite", "add", body, ++seq);
      expect(answer).toMatchObject({ k: "error", code: ErrorCode.INVALID_FIELD, seq });
      expect((answer as Extract<ServerFrame, { k: "error" }>).message).toMatch(
        new RegExp(`^${path.replace(/[[\].]/g, "\\$&")}: expected a finite number`),
      );
    }
    const ack = await player.input("party", "finite", "add", { title: "real" }, ++seq);
    expect(ack).toMatchObject({ k: "ack", result: { id: "item-1" } });
    await until(() => observer.events().length > before, 5000, "the real add's event");
    expect(
      JSON.stringify(
        observer
          .events()
          .slice(before)
          .map((e) => e.body),
      ),
    ).toContain("real");
  });
});
