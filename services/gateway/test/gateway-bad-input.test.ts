import { Writable } from "node:stream";
import { pack } from "msgpackr";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startNatsServer,
  testNamespace,
  until,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { ClientKind, ErrorCode, encodeFrame, type ServerFrame } from "@rookery/protocol";
import { startNode } from "../../node/test/nodes";
import type { Gateway, GatewayOptions } from "../src/index";
import { newSession, RawClient, startGateway, token } from "./harness";

let server: NatsServer;
let node: ChildHandle;
const prefix = testNamespace("gateway - bad input");
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  node = await startNode(server.url, prefix, "node-bad-input");
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await node?.kill("SIGKILL");
  await server?.stop();
});

async function gateway(options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway(server.url, prefix, options);
  cleanups.push(() => gw.stop());
  return gw;
}

async function client(gw: Gateway, user = "mallory"): Promise<RawClient> {
  const c = await RawClient.connect(gw.url, user);
  cleanups.push(() => c.close());
  return c;
}

async function raw(gw: Gateway): Promise<RawClient> {
  const c = await RawClient.open(gw.url);
  cleanups.push(() => c.close());
  return c;
}

const errorCode = (c: RawClient, code: string) =>
  c.next((f) => f.k === "error" && f.code === code) as Promise<
    Extract<ServerFrame, { k: "error" }>
  >;

/** The socket still answers a ping: a rejected frame did not take the connection down. */
async function alive(c: RawClient): Promise<void> {
  const t = Math.random();
  c.send({ k: ClientKind.Ping, t });
  await c.next((f) => f.k === "pong" && f.t === t);
}

describe("gateway bad input", () => {
  it("bad input - malformed MessagePack, text, unknown kind and bad fields get typed errors; the socket survives", async () => {
    const c = await client(await gateway());
    c.sendRaw(new Uint8Array([0xc1, 0x00]));
    await errorCode(c, ErrorCode.BAD_FRAME);
    c.sendRaw("a text message");
    await until(
      () => c.frames.filter((f) => f.k === "error" && f.code === "BAD_FRAME").length === 2,
      5000,
      "two BAD_FRAME",
    );
    c.sendRaw(pack({ k: "teleport" }));
    await errorCode(c, ErrorCode.UNKNOWN_KIND);
    c.send({ k: ClientKind.Join, ref: 7, room: { type: "party", id: "bad id!" } });
    const invalid = await errorCode(c, ErrorCode.INVALID_FIELD);
    expect(invalid.message).toContain("room.id");
    expect(invalid.ref).toBe(7);
    c.send({ k: ClientKind.Hello, v: 1, token: await token("x"), session: newSession() });
    await until(
      () => c.frames.filter((f) => f.k === "error" && f.code === "UNKNOWN_KIND").length === 2,
      5000,
      "hello twice",
    );
    await alive(c);
  });

  it("bad input - oversize frames: FRAME_TOO_LARGE below the hard cap, close 1009 above it", async () => {
    const gw = await gateway({ limits: { maxFrameBytes: 1024 } });
    const c = await client(gw);
    c.sendRaw(new Uint8Array(1500));
    await errorCode(c, ErrorCode.FRAME_TOO_LARGE);
    await alive(c);
    c.sendRaw(new Uint8Array(4096));
    expect(await c.closed()).toBe(1009);
  });

  it("bad input - handshake failures close with their documented codes", async () => {
    const gw = await gateway();
    const early = await raw(gw);
    early.send({ k: ClientKind.Ping, t: 1 });
    await errorCode(early, ErrorCode.NOT_AUTHENTICATED);
    expect(await early.closed()).toBe(4003);

    const forged = await raw(gw);
    const good = await token("eve");
    forged.send({
      k: ClientKind.Hello,
      v: 1,
      token: `${good.slice(0, -4)}AAAA`,
      session: newSession(),
    });
    await errorCode(forged, ErrorCode.AUTH_FAILED);
    expect(await forged.closed()).toBe(4001);

    const expired = await raw(gw);
    expired.send({
      k: ClientKind.Hello,
      v: 1,
      token: await token("old", {}, -10),
      session: newSession(),
    });
    await errorCode(expired, ErrorCode.TOKEN_EXPIRED);
    expect(await expired.closed()).toBe(4002);

    const wrongVersion = await raw(gw);
    wrongVersion.send({ k: ClientKind.Hello, v: 2, token: good, session: newSession() });
    await errorCode(wrongVersion, ErrorCode.INVALID_FIELD);
    expect(await wrongVersion.closed()).toBe(4003);
  });

  it("bad input - a token expiring mid-connection gets TOKEN_EXPIRED and close 4002", async () => {
    const c = await raw(await gateway());
    c.send({
      k: ClientKind.Hello,
      v: 1,
      token: await token("brief", {}, 2),
      session: newSession(),
    });
    await c.next("welcome");
    await errorCode(c, ErrorCode.TOKEN_EXPIRED);
    expect(await c.closed()).toBe(4002);
  });

  it("bad input - room checks: forbidden, not joined, already joined, too many rooms, unknown type, rejected input", async () => {
    const gw = await gateway({ limits: { maxRooms: 2 } });
    const limited = await raw(gw);
    limited.send({
      k: ClientKind.Hello,
      v: 1,
      token: await token("lim", { rooms: ["party/ok"] }),
      session: newSession(),
    });
    await limited.next("welcome");
    await expect(limited.join("party", "other")).rejects.toMatchObject({
      code: ErrorCode.ROOM_FORBIDDEN,
    });
    await limited.join("party", "ok");

    const c = await client(gw);
    expect(await c.input("party", "nowhere", "add", { title: "x" })).toMatchObject({
      code: ErrorCode.NOT_JOINED,
    });
    c.send({ k: ClientKind.Leave, ref: 1000, room: { type: "party", id: "nowhere" } });
    await until(
      () => c.frames.filter((f) => f.k === "error" && f.code === "NOT_JOINED").length === 2,
      5000,
      "leave not joined",
    );
    await c.join("party", "a");
    await expect(c.join("party", "a")).rejects.toMatchObject({ code: ErrorCode.ALREADY_JOINED });
    await c.join("party", "b");
    await expect(c.join("party", "c")).rejects.toMatchObject({ code: ErrorCode.TOO_MANY_ROOMS });
    c.send({ k: ClientKind.Leave, ref: 1001, room: { type: "party", id: "b" } });
    await c.next((f) => f.k === "left" && f.ref === 1001);
    await expect(c.join("nosuchtype", "z")).rejects.toMatchObject({
      code: ErrorCode.UNKNOWN_ROOM_TYPE,
    });
    expect(await c.input("party", "a", "add", { title: "" })).toMatchObject({
      code: ErrorCode.INPUT_REJECTED,
    });
    expect(await c.input("party", "a", "teleport", {})).toMatchObject({
      code: ErrorCode.INPUT_REJECTED,
    });
    // None of that changed the room: its queue is still empty.
    const ack = await c.input("party", "a", "add", { title: "first" });
    expect(ack).toMatchObject({ k: "ack", result: { id: "item-1" } });
  });

  it("bad input - a flood is rate limited with a retry hint, then closed by policy (4008)", async () => {
    const gw = await gateway({ limits: { ratePerSec: 1, burst: 5, maxErrorsPerMinute: 10 } });
    const c = await client(gw);
    for (let t = 0; t < 30; t++) c.send({ k: ClientKind.Ping, t });
    const limited = await errorCode(c, ErrorCode.RATE_LIMITED);
    expect(limited.after).toBeGreaterThan(0);
    expect(await c.closed()).toBe(4008);
  });

  it("bad input - timeouts and session replacement close with 4012, 4010 and 4013", async () => {
    const gw = await gateway({
      limits: { handshakeTimeoutMs: 500, heartbeatMs: 300, idleTimeoutMs: 1200 },
    });
    const silent = await raw(gw);
    expect(await silent.closed(4000)).toBe(4012);
    const idle = await client(gw, "idler");
    expect(await idle.closed(5000)).toBe(4010);

    const session = newSession();
    const first = await RawClient.connect(gw.url, "twin", session);
    cleanups.push(() => first.close());
    const second = await RawClient.connect(gw.url, "twin", session);
    cleanups.push(() => second.close());
    expect(await first.closed()).toBe(4013);
    await alive(second);
  });

  it("bad input - ROOM_UNAVAILABLE when no node answers in time", async () => {
    const gw = await gateway({ totalWaitMs: 1500 });
    const c = await client(gw);
    node.pause();
    try {
      await expect(c.join("party", "frozen")).rejects.toMatchObject({
        code: ErrorCode.ROOM_UNAVAILABLE,
      });
    } finally {
      node.resume();
    }
    await alive(c);
  });

  it("bad input - a socket that does not read is closed as a slow consumer (4009); others carry on", async () => {
    const gw = await gateway({
      limits: { ratePerSec: 100_000, burst: 100_000, maxServerFrameBytes: 64 * 1024 },
      maxBufferedBytes: 128 * 1024,
    });
    const slow = await client(gw, "slow");
    const fast = await client(gw, "fast");
    await slow.join("party", "flood");
    await fast.join("party", "flood");
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const title = "x".repeat(200);
    for (let i = 0; i < 100; i++) await fast.input("party", "flood", "add", { title });
    for (let i = 0; i < 3000 && slow.closeCode === undefined && gw.connectionCount === 2; i++) {
      await fast.input("party", "flood", "move", { id: "item-1", to: i % 2 === 0 ? 99 : 0 });
    }
    await until(() => gw.connectionCount === 1, 5000, "slow consumer closed");
    await alive(fast);
    const text = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
    expect(text).toMatch(/rookery_gateway_closes_total\{code="4009"\} 1/);
  });

  it("bad input - rejections are counted in metrics and logged once", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    const gw = await gateway({ logger: pino({ level: "info" }, sink) });
    const c = await client(gw);
    for (let i = 0; i < 5; i++)
      c.sendRaw(
        encodeFrame({ k: ClientKind.Join, ref: i, room: { type: "party", id: "no way" } } as never),
      );
    await until(() => c.frames.filter((f) => f.k === "error").length === 5, 5000, "five errors");
    await alive(c);
    const text = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
    expect(text).toMatch(/rookery_gateway_errors_total\{code="INVALID_FIELD"\} 5/);
    const logged = lines
      .map((l) => JSON.parse(l) as { code?: string })
      .filter((l) => l.code === "INVALID_FIELD");
    expect(logged.length).toBe(1);
  });
});
