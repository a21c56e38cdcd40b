import { afterEach, describe, expect, test, vi } from "vitest";
import {
  ClientKind,
  ErrorCode,
  ServerKind,
  type ClientFrame,
  type ErrorCode as Code,
} from "@rookery/protocol";
import {
  InputTimeoutError,
  ProtocolError,
  RookeryClient,
  SeqExpiredError,
  type ClientOptions,
} from "@rookery/client";
import { until } from "@rookery/testkit";
import { answer, FakeGateway, type FakeSocket } from "./fake-gateway";

const clients: RookeryClient[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.close();
});

async function open(gateway: FakeGateway, extra: ClientOptions = {}): Promise<RookeryClient> {
  const client = new RookeryClient({
    url: "ws://fake",
    token: "t",
    WebSocket: gateway.WebSocket,
    backoffBaseMs: 10,
    backoffCapMs: 50,
    ...extra,
  });
  clients.push(client);
  await client.start();
  return client;
}

function refuse(socket: FakeSocket, frame: ClientFrame, code: Code, message: string = code): void {
  if (frame.k !== ClientKind.Input) return;
  socket.push({ k: ServerKind.Error, code, message, room: frame.room, seq: frame.seq });
}

describe("client input outcomes", () => {
  test("outcomes - a dup ack resolves with the original result it carries", async () => {
    const gateway = new FakeGateway();
    gateway.handle = (frame, socket) => {
      if (frame.k !== ClientKind.Input) return answer(frame, socket);
      socket.push({ k: ServerKind.Ack, room: frame.room, seq: frame.seq, result: 41, dup: true });
    };
    const room = await (await open(gateway)).join("t", "r");
    expect(await room.send("x", {})).toBe(41);
  });

  test("outcomes - a resend answered with the original INPUT_REJECTED rejects with it", async () => {
    const gateway = new FakeGateway();
    gateway.handle = (frame, socket) => {
      // The first send's answer is lost with its connection; the resend gets the original outcome.
      if (frame.k === ClientKind.Input && gateway.inputSeqs().length === 1) return socket.drop();
      if (frame.k === ClientKind.Input)
        return refuse(socket, frame, ErrorCode.INPUT_REJECTED, "no");
      answer(frame, socket);
    };
    const room = await (await open(gateway)).join("t", "r");
    const error = await room.send("x", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: ErrorCode.INPUT_REJECTED, message: "no" });
    expect(gateway.inputSeqs()).toEqual([1, 1]);
  });

  test("outcomes - SEQ_EXPIRED rejects with SeqExpiredError and is final", async () => {
    const gateway = new FakeGateway();
    gateway.handle = (frame, socket) =>
      frame.k === ClientKind.Input
        ? refuse(socket, frame, ErrorCode.SEQ_EXPIRED)
        : answer(frame, socket);
    const room = await (await open(gateway)).join("t", "r");
    const error = await room.send("x", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SeqExpiredError);
    expect(error).toMatchObject({ code: ErrorCode.SEQ_EXPIRED, seq: 1 });
    expect(gateway.inputSeqs()).toEqual([1]);
  });

  test.each([ErrorCode.ROOM_UNAVAILABLE, ErrorCode.INTERNAL])(
    "outcomes - %s on an input: re-sent with the same seq after a backoff, new inputs wait behind it",
    async (code) => {
      const gateway = new FakeGateway();
      let unavailable = 1;
      gateway.handle = (frame, socket) => {
        if (frame.k === ClientKind.Input && frame.seq === 1 && unavailable-- > 0) {
          return refuse(socket, frame, code);
        }
        answer(frame, socket);
      };
      const room = await (await open(gateway)).join("t", "r");
      // The longest jitter: the first re-send comes ~250 ms after the answer.
      vi.spyOn(Math, "random").mockReturnValue(0.99);
      const first = room.send("x", 1);
      await until(() => gateway.delivered.some((f) => f.k === "error"), 1000, "answer");
      const second = room.send("x", 2);
      expect(await first).toEqual({ seq: 1 });
      expect(await second).toEqual({ seq: 2 });
      // Seq 2, sent while 1 waited for its re-send, went out only after it.
      expect(gateway.inputSeqs()).toEqual([1, 1, 2]);
    },
  );

  test("outcomes - outcome unknown until inputTimeoutMs: rejects with InputTimeoutError (ROOM_UNAVAILABLE)", async () => {
    const gateway = new FakeGateway();
    gateway.handle = (frame, socket) =>
      frame.k === ClientKind.Input
        ? refuse(socket, frame, ErrorCode.ROOM_UNAVAILABLE, "room unavailable")
        : answer(frame, socket);
    const room = await (await open(gateway, { inputTimeoutMs: 700 })).join("t", "r");
    const startedAt = Date.now();
    const error = await room.send("x", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputTimeoutError);
    expect(error).toMatchObject({ code: ErrorCode.ROOM_UNAVAILABLE, seq: 1 });
    expect((error as Error).cause).toMatchObject({ message: "room unavailable" });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(690);
    expect(gateway.inputSeqs().length).toBeGreaterThan(1);
    expect(new Set(gateway.inputSeqs())).toEqual(new Set([1]));
  });

  test.each([
    ErrorCode.RATE_LIMITED,
    ErrorCode.NOT_JOINED,
    ErrorCode.INPUT_REJECTED,
    ErrorCode.INVALID_FIELD,
  ])("outcomes - %s on an input is final: rejected at once, never re-sent", async (code) => {
    const gateway = new FakeGateway();
    gateway.handle = (frame, socket) =>
      frame.k === ClientKind.Input ? refuse(socket, frame, code) : answer(frame, socket);
    const room = await (await open(gateway)).join("t", "r");
    await expect(room.send("x", {})).rejects.toMatchObject({ code });
    expect(await room.send("y", {}).catch(() => "again")).toBe("again");
    expect(gateway.inputSeqs()).toEqual([1, 2]);
  });

  test("outcomes - frames a gateway could not read are refused locally, with their field", async () => {
    const gateway = new FakeGateway();
    const client = await open(gateway);
    await expect(client.join("t", "bad id")).rejects.toMatchObject({
      code: ErrorCode.INVALID_FIELD,
      message: expect.stringContaining("room.id") as string,
    });
    const room = await client.join("t", "r");
    await expect(room.send("bad type!", {})).rejects.toMatchObject({
      code: ErrorCode.INVALID_FIELD,
    });
    const big = "x".repeat(70_000);
    await expect(room.send("x", big)).rejects.toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE });
    // Nothing was sent for them, and no seq was used up.
    expect(await room.send("x", {})).toEqual({ seq: 1 });
  });
});
