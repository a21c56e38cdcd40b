import { describe, expect, it } from "vitest";
import {
  ClientKind,
  ErrorCode,
  InvalidFieldError,
  ServerKind,
  decodeClientFrame,
  decodeServerFrame,
  isValue,
  defaultProtocolLimits,
  encodeFrame,
  errorFrame,
  type Value,
} from "@rookery/protocol";
import {
  InternalKind,
  decodeRoomEvent,
  decodeRoomReply,
  type AnyFrame,
} from "@rookery/protocol/internal";
import { families, room } from "./fixtures";
import { bytesOf, plain } from "./helpers";

describe("codec - round trip", () => {
  for (const family of families) {
    it(`codec - round-trips every ${family.name} frame`, () => {
      for (const frame of family.frames) {
        const decoded = family.decode(encodeFrame(frame));
        expect(decoded.ok, JSON.stringify(decoded)).toBe(true);
        if (decoded.ok) expect(plain(decoded.frame)).toStrictEqual(plain(frame));
      }
    });
  }

  it("codec - fixtures cover every frame kind", () => {
    const kinds = (name: string) =>
      new Set(families.filter((f) => f.name === name).flatMap((f) => f.frames.map((x) => x.k)));
    expect(kinds("client")).toEqual(new Set(Object.values(ClientKind)));
    expect(kinds("server")).toEqual(new Set(Object.values(ServerKind)));
    const internal = new Set(
      families
        .filter((f) => !["client", "server"].includes(f.name))
        .flatMap((f) => f.frames.map((x) => x.k)),
    );
    expect(internal).toEqual(new Set(Object.values(InternalKind)));
  });
});

describe("codec - encoding details", () => {
  it("codec - omits undefined optional fields and encodes one map", () => {
    const bytes = encodeFrame({
      k: "join",
      ref: 1,
      room,
      since: undefined,
      epoch: undefined,
    } as AnyFrame);
    expect(bytes[0]).toBe(0x83);
    const decoded = decodeClientFrame(bytes);
    expect(decoded.ok && Object.keys(decoded.frame)).toEqual(["k", "ref", "room"]);
  });

  it("codec - accepts nil for optional fields and drops them", () => {
    const bytes = bytesOf({ k: "join", ref: 1, room, since: null, epoch: null });
    const decoded = decodeClientFrame(bytes);
    expect(decoded).toStrictEqual({ ok: true, frame: { k: "join", ref: 1, room } });
  });

  it("codec - ignores unknown fields", () => {
    const decoded = decodeClientFrame(bytesOf({ k: "ping", t: 5, extra: { a: 1 } }));
    expect(decoded).toStrictEqual({ ok: true, frame: { k: "ping", t: 5 } });
  });

  it("codec - missing body decodes as nil", () => {
    const decoded = decodeClientFrame(bytesOf({ k: "input", room, seq: 3, type: "noop" }));
    expect(decoded.ok && decoded.frame).toStrictEqual({
      k: "input",
      room,
      seq: 3,
      type: "noop",
      body: null,
    });
  });

  it("codec - accepts integers encoded as uint64 or integral float64", () => {
    // {k:"ack", room, seq: <int>} with seq as uint64 (0xcf) and as float64 (0xcb)
    const head = encodeFrame({ k: "ack", room, seq: 1 } as AnyFrame);
    const prefix = head.subarray(0, head.length - 1);
    const uint64 = Uint8Array.from([...prefix, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0]);
    const float64 = new Uint8Array(prefix.length + 9);
    float64.set(prefix);
    float64[prefix.length] = 0xcb;
    new DataView(float64.buffer).setFloat64(prefix.length + 1, 2 ** 32);
    for (const bytes of [uint64, float64]) {
      const decoded = decodeServerFrame(bytes);
      expect(decoded.ok && decoded.frame).toStrictEqual({ k: "ack", room, seq: 2 ** 32 });
    }
  });

  it("codec - decodes bin as bytes and accepts an ArrayBuffer", () => {
    const bytes = encodeFrame({
      k: "input",
      room,
      seq: 1,
      type: "blob",
      body: new Uint8Array([9, 8]),
    });
    const copy = new Uint8Array(bytes).buffer; // a copy: Buffer#slice would share the pool
    const decoded = decodeClientFrame(copy);
    expect(decoded.ok && decoded.frame.k === "input" && decoded.frame.body).toBeInstanceOf(
      Uint8Array,
    );
  });

  it("codec - a frame exactly at the size limit decodes", () => {
    const limits = defaultProtocolLimits();
    const base = encodeFrame({ k: "input", room, seq: 1, type: "t", body: "" }).length;
    // "" takes 1 byte; a str16 takes a 3-byte header plus its bytes
    const body = "x".repeat(limits.maxFrameBytes - base - 2);
    const bytes = encodeFrame({ k: "input", room, seq: 1, type: "t", body });
    expect(bytes.length).toBe(limits.maxFrameBytes);
    expect(decodeClientFrame(bytes, limits).ok).toBe(true);
  });
});

describe("codec - nesting", () => {
  const nest = (levels: number): Value => {
    let body: Value = 1;
    for (let i = 0; i < levels; i++) body = [body];
    return body;
  };

  it("codec - the deepest body a client may send fits every frame that echoes it", () => {
    const body = nest(31);
    expect(isValue(body)).toBe(true);
    expect(isValue(nest(32))).toBe(false);
    expect(decodeClientFrame(encodeFrame({ k: "input", room, seq: 1, type: "t", body })).ok).toBe(
      true,
    );
    const replay = [{ seq: 2, type: "t", body }];
    const members: never[] = [];
    const joined = { epoch: 1, seq: 2, mode: "replay", members, leader: null, replay } as const;
    expect(decodeServerFrame(encodeFrame({ k: "joined", room, ...joined })).ok).toBe(true);
    expect(decodeRoomReply(encodeFrame({ k: "joined", ...joined })).ok).toBe(true);
    const frame = encodeFrame({ k: "event", room, seq: 2, type: "t", body });
    expect(decodeServerFrame(frame).ok).toBe(true);
    expect(decodeRoomEvent(encodeFrame({ k: "ev", epoch: 1, seq: 2, type: "t", frame })).ok).toBe(
      true,
    );
  });
});

describe("codec - errorFrame", () => {
  it("codec - errorFrame points at the rejected input's room and seq", () => {
    const decoded = decodeClientFrame(
      bytesOf({ k: "input", room, seq: 12, type: "$join", body: 1 }),
    );
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.error).toBeInstanceOf(InvalidFieldError);
    expect(decoded.error.context).toStrictEqual({ kind: "input", room, seq: 12 });
    expect(errorFrame(decoded.error, 100)).toStrictEqual({
      k: "error",
      code: ErrorCode.INVALID_FIELD,
      message: decoded.error.message,
      room,
      seq: 12,
      after: 100,
    });
  });

  it("codec - errorFrame of a join carries its ref", () => {
    const decoded = decodeClientFrame(
      bytesOf({ k: "join", ref: 5, room: { type: "a.b", id: "x" } }),
    );
    expect(!decoded.ok && errorFrame(decoded.error)).toMatchObject({
      code: "INVALID_FIELD",
      ref: 5,
    });
    expect(!decoded.ok && decoded.error.context.room).toBeUndefined();
  });

  it("codec - error frames round-trip through the server decoder", () => {
    const decoded = decodeClientFrame(bytesOf({ k: "nope" }));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    const back = decodeServerFrame(encodeFrame(errorFrame(decoded.error)));
    expect(back.ok && back.frame).toStrictEqual({
      k: "error",
      code: "UNKNOWN_KIND",
      message: decoded.error.message,
    });
  });
});
