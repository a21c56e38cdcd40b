/**
 * Conformance driven by docs/protocol.md: the error-code table (§10) and the
 * close-code table (§11) are read from the document, and every documented
 * case is driven through a real gateway (real nats-server, real node
 * process, real WebSocket). Expectations come from the document, not from
 * this file: change the document or the gateway alone, and this fails.
 *
 * Each §10 row needs a case for every clause of its "socket" column; rows
 * whose socket stays open are also driven twice with `maxErrorsPerMinute: 1`
 * to check the "budget" column (counted: closed 4008; not counted: open).
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, testNamespace, until, type ChildHandle } from "@rookery/testkit";
import {
  ClientKind,
  encodeFrame,
  ErrorCode,
  names,
  type ClientFrame,
  type ServerFrame,
} from "@rookery/protocol";
import { startNode } from "../../node/test/nodes";
import {
  closeTable,
  documentedOutcome,
  errorTable,
  type ErrorRow,
  type Outcome,
} from "../../../packages/protocol/test/protocol-doc";
import type { Gateway, GatewayOptions } from "../src/index";
import { newSession, RawClient, startGateway, token } from "./harness";
import { serverPerFile } from "./suite";

const suite = serverPerFile();
const prefix = testNamespace("protocol - conformance");
const errors = errorTable();
const closes = closeTable();
let node: ChildHandle;
let nc: NatsConnection;

beforeAll(async () => {
  node = await startNode(suite.server.url, prefix, "node-conformance");
  nc = await connect({ servers: suite.server.url });
  // Rooms only the tests serve: one that never answers, one that answers garbage.
  const inbox = (type: string) => `${names(prefix).prefix}.room.${type}.*.in`;
  nc.subscribe(inbox("blackhole"));
  nc.subscribe(inbox("garbled"), {
    callback: (_err, msg) => void msg.respond(Uint8Array.of(0xc1)),
  });
});
afterAll(async () => {
  await nc?.close();
  await node?.kill("SIGKILL");
});

type ErrorFrame = Extract<ServerFrame, { k: "error" }>;

/** What a case may use besides its client. */
interface Env {
  gw: Gateway;
  /** A room id no other case uses. */
  room: string;
  /** Which provocation this is on the connection (0, then 1 for the budget check). */
  attempt: number;
}

interface ErrorCase {
  code: ErrorCode;
  name: string;
  /** The §10 socket clause exercised (text of its condition); the general rule if absent. */
  when?: string;
  gateway?: GatewayOptions;
  /** `false`: the case speaks before any hello; else the token's claims. */
  hello?: false | { rooms?: string[] };
  /** Nothing is answered, the socket just closes (the hard cap). */
  silent?: true;
  prepare?(c: RawClient, env: Env): Promise<void>;
  /** Sends what provokes `code`, once; the budget check calls it twice. */
  provoke(c: RawClient, env: Env): Promise<void> | void;
}

const SMALL = { limits: { maxFrameBytes: 1024 } } satisfies GatewayOptions;
const party = (id: string) => ({ type: "party", id });
const send = (c: RawClient, frame: unknown) => c.send(frame as ClientFrame);
const hello = async (user = "conformer", claims: { rooms?: string[] } = {}) => ({
  k: ClientKind.Hello,
  v: 1,
  token: await token(user, claims),
  session: newSession(),
});

/** Writes the messages in one TCP segment, so the gateway reads them together. */
function burst(c: RawClient, frames: Uint8Array[]): void {
  const socket = (c.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  socket.cork();
  for (const frame of frames) c.sendRaw(frame);
  socket.uncork();
}

async function metric(gw: Gateway, pattern: RegExp): Promise<boolean> {
  return pattern.test(await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text());
}

const errorCases: ErrorCase[] = [
  {
    code: ErrorCode.BAD_FRAME,
    name: "invalid MessagePack",
    provoke: (c) => c.sendRaw(Uint8Array.of(0xc1, 0x00)),
  },
  {
    code: ErrorCode.BAD_FRAME,
    name: "a text message",
    provoke: (c) => c.sendRaw("hello?"),
  },
  {
    code: ErrorCode.UNKNOWN_KIND,
    name: "an unknown kind",
    provoke: (c) => send(c, { k: "teleport" }),
  },
  {
    code: ErrorCode.UNKNOWN_KIND,
    name: "hello after the handshake",
    provoke: async (c) => send(c, await hello()),
  },
  {
    code: ErrorCode.FRAME_TOO_LARGE,
    name: "one byte over maxFrameBytes",
    gateway: SMALL,
    provoke: (c) => c.sendRaw(new Uint8Array(1025)),
  },
  {
    code: ErrorCode.FRAME_TOO_LARGE,
    name: "exactly the hard cap, 2 × maxFrameBytes",
    gateway: SMALL,
    provoke: (c) => c.sendRaw(new Uint8Array(2048)),
  },
  {
    code: ErrorCode.FRAME_TOO_LARGE,
    name: "one byte over the hard cap",
    when: "hard cap",
    gateway: SMALL,
    silent: true,
    provoke: (c) => c.sendRaw(new Uint8Array(2049)),
  },
  {
    code: ErrorCode.INVALID_FIELD,
    name: "a bad room id",
    provoke: (c, { attempt }) => send(c, { k: "join", ref: attempt, room: party("bad id!") }),
  },
  {
    code: ErrorCode.INVALID_FIELD,
    name: "NaN inside an input body",
    provoke: (c, { room, attempt }) =>
      send(c, { k: "input", room: party(room), seq: attempt + 1, type: "add", body: { n: NaN } }),
  },
  {
    code: ErrorCode.INVALID_FIELD,
    name: "hello with version 2",
    when: "on `hello`",
    hello: false,
    provoke: async (c) => send(c, { ...(await hello()), v: 2 }),
  },
  {
    code: ErrorCode.INVALID_FIELD,
    name: "hello with an empty token",
    when: "on `hello`",
    hello: false,
    provoke: async (c) => send(c, { ...(await hello()), token: "" }),
  },
  ...(
    [
      ["a ping", encodeFrame({ k: ClientKind.Ping, t: 1 })],
      ["a join", encodeFrame({ k: ClientKind.Join, ref: 1, room: party("x") })],
      ["an unknown kind", encodeFrame({ k: "teleport" } as never)],
      ["invalid MessagePack", Uint8Array.of(0xc1)],
      ["a MessagePack array", encodeFrame([1, 2] as never)],
      ["a text message", "hello"],
      ["more than maxFrameBytes", new Uint8Array(1500)],
    ] as const
  ).map(([what, data]): ErrorCase => ({
    code: ErrorCode.NOT_AUTHENTICATED,
    name: `${what} as the first message`,
    hello: false,
    gateway: SMALL,
    provoke: (c) => c.sendRaw(data),
  })),
  {
    code: ErrorCode.AUTH_FAILED,
    name: "a forged signature",
    hello: false,
    provoke: async (c) => {
      const frame = await hello();
      send(c, { ...frame, token: `${frame.token.slice(0, -4)}AAAA` });
    },
  },
  {
    code: ErrorCode.AUTH_FAILED,
    name: "a token longer than 8,192 characters",
    hello: false,
    provoke: async (c) => {
      const frame = await hello();
      send(c, { ...frame, token: frame.token + "A".repeat(8193 - frame.token.length) });
    },
  },
  {
    code: ErrorCode.TOKEN_EXPIRED,
    name: "an expired token",
    hello: false,
    provoke: async (c) =>
      send(c, { k: "hello", v: 1, token: await token("old", {}, -10), session: newSession() }),
  },
  {
    code: ErrorCode.ROOM_FORBIDDEN,
    name: "a room outside the token's allow-list",
    hello: { rooms: ["party/only"] },
    provoke: (c, { room, attempt }) => send(c, { k: "join", ref: attempt, room: party(room) }),
  },
  {
    code: ErrorCode.NOT_JOINED,
    name: "an input to a room not joined",
    provoke: (c, { room, attempt }) =>
      send(c, { k: "input", room: party(room), seq: attempt + 1, type: "add", body: {} }),
  },
  {
    code: ErrorCode.NOT_JOINED,
    name: "a leave of a room not joined",
    provoke: (c, { room, attempt }) => send(c, { k: "leave", ref: attempt, room: party(room) }),
  },
  {
    code: ErrorCode.ALREADY_JOINED,
    name: "a second join of a room",
    prepare: async (c, { room }) => void (await c.join("party", room)),
    provoke: (c, { room, attempt }) =>
      send(c, { k: "join", ref: 100 + attempt, room: party(room) }),
  },
  {
    code: ErrorCode.TOO_MANY_ROOMS,
    name: "a join past maxRooms",
    gateway: { limits: { maxRooms: 1 } },
    prepare: async (c, { room }) => void (await c.join("party", room)),
    provoke: (c, { room, attempt }) =>
      send(c, { k: "join", ref: 100 + attempt, room: party(`${room}-more`) }),
  },
  {
    code: ErrorCode.RATE_LIMITED,
    name: "a frame past the bucket",
    gateway: { limits: { ratePerSec: 1, burst: 1 } },
    provoke: (c) => burst(c, [encodeFrame({ k: "ping", t: 1 }), encodeFrame({ k: "ping", t: 2 })]),
  },
  {
    code: ErrorCode.RATE_LIMITED,
    name: "more than burst frames pipelined before welcome",
    when: "before `welcome`",
    hello: false,
    gateway: { limits: { burst: 3 } },
    provoke: async (c) => {
      const pings = [1, 2, 3, 4].map((t) => encodeFrame({ k: ClientKind.Ping, t }));
      burst(c, [encodeFrame(await hello()), ...pings]);
    },
  },
  {
    code: ErrorCode.ROOM_UNAVAILABLE,
    name: "a room that does not answer in time",
    gateway: { totalWaitMs: 800 },
    provoke: (c, { room, attempt }) =>
      send(c, { k: "join", ref: attempt, room: { type: "blackhole", id: room } }),
  },
  {
    code: ErrorCode.SEQ_EXPIRED,
    name: "a seq below the dedupe window's floor",
    prepare: async (c, { room }) => {
      await c.join("ledger", room);
      // 34 inputs: the window keeps the last 32, so seqs 1 and 3 left it (floor 3).
      for (const seq of [1, ...Array.from({ length: 33 }, (_, i) => i + 3)]) {
        expect(await c.input("ledger", room, "add", { n: 1, tag: `t${seq}` }, seq)).toMatchObject({
          k: "ack",
        });
      }
    },
    provoke: (c, { room }) =>
      send(c, { k: "input", room: { type: "ledger", id: room }, seq: 2, type: "add", body: {} }),
  },
  {
    code: ErrorCode.INPUT_REJECTED,
    name: "an input the room's logic refuses",
    prepare: async (c, { room }) => void (await c.join("party", room)),
    provoke: (c, { room, attempt }) =>
      send(c, {
        k: "input",
        room: party(room),
        seq: attempt + 1,
        type: "add",
        body: { title: "" },
      }),
  },
  {
    code: ErrorCode.UNKNOWN_ROOM_TYPE,
    name: "a join of a type no node serves",
    provoke: (c, { room, attempt }) =>
      send(c, { k: "join", ref: attempt, room: { type: "nosuchtype", id: room } }),
  },
  {
    code: ErrorCode.SLOW_CONSUMER,
    name: "a socket that stops reading",
    gateway: {
      limits: { ratePerSec: 100_000, burst: 100_000, maxServerFrameBytes: 64 * 1024 },
      maxBufferedBytes: 64 * 1024,
    },
    prepare: fillQueue,
    provoke: overflow,
  },
  {
    code: ErrorCode.GATEWAY_DRAINING,
    name: "a join while the gateway drains",
    gateway: { drainMs: 10_000 },
    prepare: async (c, { gw }) => {
      void gw.stop();
      await c.next("reconnect");
    },
    provoke: (c, { room, attempt }) => send(c, { k: "join", ref: attempt, room: party(room) }),
  },
  {
    code: ErrorCode.INTERNAL,
    name: "a room reply the gateway cannot decode",
    provoke: (c, { room, attempt }) =>
      send(c, { k: "join", ref: attempt, room: { type: "garbled", id: `${room}-${attempt}` } }),
  },
];

/** A party room whose `queue` event is large: 100 items of 200 characters. */
async function fillQueue(c: RawClient, { room }: Env): Promise<void> {
  await c.join("party", room);
  const title = "x".repeat(200);
  for (let i = 0; i < 100; i++) await c.input("party", room, "add", { title });
}

/** Stops reading and moves items until the gateway gives up on the socket, then reads again. */
async function overflow(c: RawClient, { gw, room }: Env): Promise<void> {
  const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  socket.pause();
  let seq = 1000;
  await until(
    async () => {
      for (let i = 0; i < 20; i++) {
        const body = { id: "item-1", to: seq % 2 === 0 ? 99 : 0 };
        send(c, { k: "input", room: party(room), seq: ++seq, type: "move", body });
      }
      return metric(gw, /rookery_gateway_closes_total\{code="4009"\} 1/);
    },
    30_000,
    "the gateway closed the socket as a slow consumer",
  );
  socket.resume();
}

// ---- running a case ----

let rooms = 0;

async function gatewayFor(options: GatewayOptions = {}): Promise<Gateway> {
  const gw = await startGateway(suite.server.url, prefix, options);
  suite.defer(() => gw.stop());
  return gw;
}

async function open(gw: Gateway, c: ErrorCase): Promise<RawClient> {
  const client = await RawClient.open(gw.url);
  suite.defer(() => client.close());
  if (c.hello === false) return client;
  client.send(await hello("conformer", c.hello ?? {}));
  client.member = (await client.next("welcome")).member;
  return client;
}

const errorsOf = (c: RawClient, code: string) =>
  c.frames.filter((f): f is ErrorFrame => f.k === "error" && f.code === code);

/**
 * The socket still answers a ping: the error left the connection open. A
 * ping may itself be rate limited (the RATE_LIMITED case empties the
 * bucket), so pings are repeated until the bucket has a token again.
 */
async function alive(c: RawClient): Promise<void> {
  await until(
    async () => {
      const t = Math.random();
      c.send({ k: ClientKind.Ping, t });
      return c.next((f) => f.k === "pong" && f.t === t, 1500).then(() => true);
    },
    10_000,
    "a pong",
  );
  expect(c.closeCode).toBeUndefined();
}

async function expectOutcome(c: RawClient, outcome: Outcome): Promise<void> {
  if ("open" in outcome) return alive(c);
  expect(await c.closed(10_000)).toBe(outcome.close);
}

/** Drives the case `times` times on one connection; resolves once each got its error frame. */
async function drive(row: ErrorRow, c: ErrorCase, times: number, extra: GatewayOptions = {}) {
  const limits = { ...c.gateway?.limits, ...extra.limits };
  const gw = await gatewayFor({ ...c.gateway, ...extra, limits });
  const client = await open(gw, c);
  const env: Env = { gw, room: `${c.code.toLowerCase()}-${++rooms}`, attempt: 0 };
  await c.prepare?.(client, env);
  for (let attempt = 0; attempt < times; attempt++) {
    await c.provoke(client, { ...env, attempt });
    if (c.silent) continue;
    await until(
      () => errorsOf(client, row.code).length > attempt,
      15_000,
      `${row.code} #${attempt + 1}`,
    );
  }
  return client;
}

const rowOf = (code: string) => errors.find((row) => row.code === code);

describe("protocol - conformance: §10 error codes through a real gateway", () => {
  for (const row of errors) {
    const cases = errorCases.filter((c) => c.code === row.code);
    if (row.socket.length === 0) {
      it(`protocol - §10 ${row.code} is never on the wire: no case drives it`, () => {
        expect(cases).toEqual([]);
      });
      continue;
    }

    it(`protocol - §10 ${row.code}: every socket clause has a case`, () => {
      for (const clause of row.socket) {
        const covered = cases.some((c) =>
          clause.when === undefined ? c.when === undefined : clause.when.includes(c.when ?? "\0"),
        );
        expect(covered, `${row.code}: "${clause.when ?? "general rule"}"`).toBe(true);
      }
    });

    for (const c of cases) {
      it(`protocol - §10 ${row.code}: ${c.name}`, async () => {
        const outcome = documentedOutcome(row, c.when);
        const client = await drive(row, c, 1);
        if (c.silent) expect(client.frames.filter((f) => f.k === "error")).toEqual([]);
        else expect(errorsOf(client, row.code)[0]!.message.length).toBeGreaterThan(0);
        await expectOutcome(client, outcome);
      });
    }

    const general = cases.find((c) => c.when === undefined);
    if (general && "open" in documentedOutcome(row) && row.budget !== "—") {
      it(`protocol - §10 ${row.code}: budget ${row.budget} (twice with maxErrorsPerMinute 1)`, async () => {
        const client = await drive(row, general, 2, { limits: { maxErrorsPerMinute: 1 } });
        await expectOutcome(client, row.budget === "yes" ? { close: 4008 } : { open: true });
      });
    }
  }

  it("protocol - every case names a documented code", () => {
    for (const c of errorCases) expect(rowOf(c.code), c.code).toBeDefined();
  });
});

// ---- §11 ----

/** Drivers of each close code: each returns the client whose socket the gateway closed. */
const closeCases: Record<number, () => Promise<RawClient>> = {
  4000: heartbeatLost,
  4001: () => closedBy(ErrorCode.AUTH_FAILED),
  4002: () => closedBy(ErrorCode.TOKEN_EXPIRED),
  4003: () => closedBy(ErrorCode.NOT_AUTHENTICATED),
  4008: async () => {
    const gw = await gatewayFor({ limits: { ratePerSec: 1, burst: 2, maxErrorsPerMinute: 3 } });
    const c = await open(gw, { code: ErrorCode.RATE_LIMITED, name: "flood", provoke: () => {} });
    burst(
      c,
      Array.from({ length: 10 }, (_, t) => encodeFrame({ k: ClientKind.Ping, t })),
    );
    return c;
  },
  4009: () => closedBy(ErrorCode.SLOW_CONSUMER),
  4010: async () => {
    const gw = await gatewayFor({ limits: { heartbeatMs: 300, idleTimeoutMs: 1200 } });
    return open(gw, { code: ErrorCode.INTERNAL, name: "idle", provoke: () => {} });
  },
  4011: async () => {
    const gw = await gatewayFor({ drainMs: 500 });
    const c = await open(gw, { code: ErrorCode.INTERNAL, name: "drained", provoke: () => {} });
    void gw.stop();
    return c;
  },
  4012: async () => {
    const gw = await gatewayFor({ limits: { handshakeTimeoutMs: 500 } });
    return open(gw, { code: ErrorCode.INTERNAL, name: "silent", hello: false, provoke: () => {} });
  },
  4013: async () => {
    const gw = await gatewayFor();
    const session = newSession();
    const first = await RawClient.connect(gw.url, "twin", session);
    suite.defer(() => first.close());
    const second = await RawClient.connect(gw.url, "twin", session);
    suite.defer(() => second.close());
    await alive(second);
    return first;
  },
};

/** The first §10 case of a code that closes the socket. */
async function closedBy(code: ErrorCode): Promise<RawClient> {
  const c = errorCases.find((e) => e.code === code && e.when === undefined)!;
  return drive(rowOf(code)!, c, 1);
}

/**
 * A gateway whose heartbeat cannot be renewed (its nats-server frozen past
 * the TTL) no longer stands for its members: it closes its sockets, 4000.
 */
async function heartbeatLost(): Promise<RawClient> {
  const server = await startNatsServer();
  suite.defer(() => server.stop());
  const gw = await startGateway(server.url, testNamespace("protocol - heartbeat lost"), {
    heartbeatTtlMs: 1500,
  });
  suite.defer(() => gw.stop());
  const c = await RawClient.connect(gw.url, "stranded");
  suite.defer(() => c.close());
  server.pause();
  suite.defer(() => server.resume());
  return c;
}

describe("protocol - conformance: §11 close codes through a real gateway", () => {
  it("protocol - every documented close code has a driver, and every driver a row", () => {
    expect(Object.keys(closeCases).map(Number).sort()).toEqual(closes.map((r) => r.code).sort());
  });

  for (const row of closes) {
    it(`protocol - §11 ${row.code}: ${row.meaning}`, async () => {
      const driver = closeCases[row.code];
      expect(driver, `no driver for ${row.code}`).toBeDefined();
      const c = await driver!();
      expect(await c.closed(15_000)).toBe(row.code);
    });
  }
});
