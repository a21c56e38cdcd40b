import { afterEach, describe, expect, test } from "vitest";
import { ClientKind, ErrorCode, ServerKind } from "@rookery/protocol";
import {
  ClientClosedError,
  InputTimeoutError,
  RoomLeftError,
  RookeryClient,
  type ClientOptions,
} from "@rookery/client";
import { until } from "@rookery/testkit";
import { answer, FakeGateway, joined, silentOnInputs } from "./fake-gateway";

const clients: RookeryClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function client(gateway: FakeGateway, extra: ClientOptions = {}): RookeryClient {
  const c = new RookeryClient({
    url: "ws://fake",
    token: "t",
    WebSocket: gateway.WebSocket,
    backoffBaseMs: 10,
    backoffCapMs: 50,
    ...extra,
  });
  clients.push(c);
  return c;
}

/** How a promise ended, for checking that it ended at all. */
function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe("client: every promise settles", () => {
  test("settle - close() rejects inputs queued offline and in flight, joins in flight, and requests", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const room = await c.join("t", "r");
    const left = await c.join("t", "l");
    gateway.handle = () => undefined; // nothing is answered any more
    const before = gateway.received.length;
    const inFlight = outcome(room.send("x", 1));
    const joining = outcome(c.join("t", "other"));
    const leaving = outcome(left.leave());
    await until(() => gateway.received.length === before + 3, 1000, "all sent");
    gateway.frozen = true; // the reconnect hangs in the handshake
    gateway.last.drop();
    // A leave cut short by the connection is done: the member leaves with the grace period.
    expect(await leaving).toEqual({ value: undefined });
    const other = await until(() => c.rooms.get("t/other"), 1000, "room object");
    const queued = outcome(other.send("y", 2));

    c.close();
    for (const settled of [inFlight, queued, joining]) {
      expect((await settled).error).toBeInstanceOf(ClientClosedError);
    }
    await expect(room.send("z", 3)).rejects.toBeInstanceOf(ClientClosedError);
    await expect(c.join("t", "again")).rejects.toBeInstanceOf(ClientClosedError);
    await expect(c.start()).resolves.toBeUndefined(); // it had opened before
  });

  test("settle - close() before the first connection rejects start() and joins; start() twice is one attempt", async () => {
    const gateway = new FakeGateway();
    gateway.frozen = true; // never welcomes
    const c = client(gateway);
    const started = outcome(c.start());
    expect(c.start()).toBe(c.start());
    const joining = outcome(c.join("t", "r"));
    await until(() => gateway.sockets.length === 1, 1000, "socket");
    c.close();
    expect((await started).error).toBeInstanceOf(ClientClosedError);
    expect((await joining).error).toBeInstanceOf(ClientClosedError);
    expect(gateway.sockets).toHaveLength(1);
  });

  test("settle - close() while waiting to reconnect, and while a connection attempt hangs", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway, { backoffBaseMs: 60_000, backoffCapMs: 60_000 });
    await c.start();
    const room = await c.join("t", "r");
    gateway.handle = silentOnInputs;
    const sent = outcome(room.send("x", 1));
    gateway.frozen = true;
    gateway.last.drop();
    await until(() => c.state === "reconnecting", 1000, "reconnecting");
    c.close();
    expect((await sent).error).toBeInstanceOf(ClientClosedError);
    expect(c.state).toBe("closed");
  });

  test("settle - a join survives a reconnect that happens while it is in flight", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    gateway.handle = (frame, socket) => {
      // The first join is lost with its connection.
      if (frame.k === ClientKind.Join && gateway.frames(ClientKind.Join).length === 1) {
        return socket.drop();
      }
      answer(frame, socket);
    };
    const room = await c.join("t", "r");
    expect(room.status).toBe("joined");
    expect(gateway.sockets).toHaveLength(2);
    expect(await room.send("x", 1)).toEqual({ seq: 1 });
  });

  test("settle - leave() while the join is in flight: the join rejects with ROOM_LEFT, the leave follows it", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const held: (() => void)[] = [];
    gateway.handle = (frame, socket) => {
      if (frame.k === ClientKind.Join) return void held.push(() => answer(frame, socket));
      answer(frame, socket);
    };
    const joining = outcome(c.join("t", "r"));
    const room = await until(() => c.rooms.get("t/r"), 1000, "room object");
    const queued = outcome(room.send("x", 1));
    const leaving = room.leave();
    expect((await joining).error).toBeInstanceOf(RoomLeftError);
    expect((await queued).error).toBeInstanceOf(RoomLeftError);
    for (const release of held) release();
    await leaving;
    expect(gateway.received.map((r) => r.frame.k)).toEqual(["join", "leave"]);
    expect(room.status).toBe("left");
    expect(gateway.inputSeqs()).toEqual([]);
  });

  test("settle - inputs queued for a room being left reject with ROOM_LEFT; later sends too", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const room = await c.join("t", "r");
    gateway.handle = silentOnInputs;
    const pending = [outcome(room.send("x", 1)), outcome(room.send("x", 2))];
    const leaving = room.leave();
    const during = outcome(room.send("x", 3));
    await leaving;
    for (const p of [...pending, during]) expect((await p).error).toBeInstanceOf(RoomLeftError);
  });

  test("settle - the server removing the member or refusing a resume settles everything of the room", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const room = await c.join("t", "r");
    gateway.handle = silentOnInputs;
    const kicked = outcome(room.send("x", 1));
    await until(() => gateway.inputSeqs().length === 1, 1000, "sent");
    gateway.last.push({ k: ServerKind.Left, room: room.ref, reason: "kicked" });
    expect((await kicked).error).toBeInstanceOf(RoomLeftError);
    expect(room.status).toBe("left");

    const again = await c.join("t", "r");
    const refusedSend = outcome(again.send("x", 2));
    gateway.handle = (frame, socket) => {
      if (frame.k !== ClientKind.Join) return;
      const error = { k: ServerKind.Error, code: ErrorCode.ROOM_FORBIDDEN, message: "no" } as const;
      socket.push({ ...error, ref: frame.ref, room: frame.room });
    };
    gateway.last.drop();
    expect((await refusedSend).error).toMatchObject({ code: ErrorCode.ROOM_FORBIDDEN });
    expect(again.status).toBe("left");
  });

  test("settle - an input never answered on a live connection rejects after inputTimeoutMs", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway, { inputTimeoutMs: 400 });
    await c.start();
    const room = await c.join("t", "r");
    gateway.handle = silentOnInputs;
    const error = await room.send("x", 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputTimeoutError);
    expect(error).toMatchObject({ code: ErrorCode.ROOM_UNAVAILABLE });
    expect(c.state).toBe("open"); // the gateway answers pings: no reconnect
  });

  test("settle - inputs sent while offline have no deadline until they go out", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway, { inputTimeoutMs: 200, connectTimeoutMs: 100 });
    await c.start();
    const room = await c.join("t", "r");
    gateway.frozen = true;
    gateway.last.drop();
    await until(() => c.state === "reconnecting", 1000, "reconnecting");
    const queued = room.send("x", 1);
    await until(() => gateway.sockets.length >= 3, 2000, "attempts go on"); // > inputTimeoutMs
    gateway.frozen = false;
    expect(await queued).toEqual({ seq: 1 });
  });

  test("settle - a resume refused as unavailable is retried; a resync joined does not re-send", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const room = await c.join("t", "r");
    let refusals = 2;
    gateway.handle = (frame, socket) => {
      if (frame.k === ClientKind.Join && refusals-- > 0) {
        const error = {
          k: ServerKind.Error,
          code: ErrorCode.ROOM_UNAVAILABLE,
          message: "x",
        } as const;
        return socket.push({ ...error, ref: frame.ref, room: frame.room });
      }
      if (frame.k === ClientKind.Input) return; // kept unanswered
      answer(frame, socket);
    };
    const sent = outcome(room.send("x", 1));
    gateway.last.drop();
    await until(() => gateway.frames(ClientKind.Join).length === 4, 3000, "resume retried");
    await until(() => gateway.inputSeqs().length === 2, 1000, "re-sent after the resume");
    gateway.last.push(joined(undefined, room.ref, 0)); // a resynchronisation
    gateway.last.push({ k: ServerKind.Ack, room: room.ref, seq: 1, result: "ok" });
    expect(await sent).toEqual({ value: "ok" });
    expect(gateway.inputSeqs()).toEqual([1, 1]);
    expect(room.status).toBe("joined");
  });
});

describe("client: re-sends after a rejoin", () => {
  test("order - unanswered inputs go out again in seq order, before any new input of the room", async () => {
    const gateway = new FakeGateway();
    const c = client(gateway);
    await c.start();
    const a = await c.join("t", "a");
    const b = await c.join("t", "b");
    gateway.handle = silentOnInputs;
    const sent = [a.send("x", 1), b.send("x", 2), a.send("x", 3), a.send("x", 4)];
    await until(() => gateway.inputSeqs(0).length === 4, 1000, "sent");
    gateway.last.push({ k: ServerKind.Ack, room: a.ref, seq: 3 }); // answered: not re-sent
    await until(() => gateway.delivered.some((f) => f.k === "ack"), 1000, "ack delivered");

    const releases: (() => void)[] = [];
    gateway.handle = (frame, socket) => {
      if (frame.k === ClientKind.Join) return void releases.push(() => answer(frame, socket));
      answer(frame, socket);
    };
    let reconnects = 0;
    c.on("reconnecting", () => reconnects++);
    gateway.last.drop();
    await until(() => reconnects === 1, 1000, "reconnecting");
    const offline = a.send("x", 5);
    await until(() => c.state === "open" && releases.length === 2, 1000, "rejoining");
    const early = a.send("x", 6); // after the reconnect, before the room answered the resume
    for (const release of releases) release();
    await Promise.all([...sent, offline, early]);
    const resent = gateway.frames(ClientKind.Input, 1).filter((f) => f.room.id === "a");
    expect(resent.map((f) => f.seq)).toEqual([1, 4, 5, 6]);
    expect(gateway.inputSeqs(1).filter((s) => s === 2)).toEqual([2]);
  });
});
