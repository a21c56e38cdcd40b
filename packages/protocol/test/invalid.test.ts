import { describe, expect, it } from "vitest";
import {
  decodeClientFrame,
  decodeServerFrame,
  defaultProtocolLimits,
  FrameTooLargeError,
  InvalidFieldError,
  MalformedFrameError,
  UnknownFrameError,
  type DecodeResult,
  type ProtocolError,
} from "@rookery/protocol";
import {
  decodeDownNotice,
  decodePlaceReply,
  decodePlaceRequest,
  decodeRoomEvent,
  decodeRoomReply,
  decodeRoomRequest,
} from "@rookery/protocol/internal";
import { alice, room } from "./fixtures";
import { bytesOf, concat, fixstr } from "./helpers";

type Decode = (bytes: Uint8Array) => DecodeResult<unknown>;

type ErrorClass = abstract new (...args: never[]) => ProtocolError;

function expectError(result: DecodeResult<unknown>, type: ErrorClass, code: string) {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.error).toBeInstanceOf(type);
  expect(result.error.code).toBe(code);
  return result.error;
}

const kPing = [...fixstr("k"), ...fixstr("ping")];

describe("codec - size", () => {
  it("codec - rejects oversize frame before decoding", () => {
    // 0xc1 is never valid MessagePack: decoding would fail differently.
    const bytes = new Uint8Array(64 * 1024 + 1).fill(0xc1);
    const error = expectError(decodeClientFrame(bytes), FrameTooLargeError, "FRAME_TOO_LARGE");
    expect(error).toMatchObject({ size: 65537, limit: 65536 });
  });

  it("codec - size limits follow the direction", () => {
    const body = "x".repeat(70_000);
    const client = bytesOf({ k: "input", room, seq: 1, type: "t", body });
    expectError(decodeClientFrame(client), FrameTooLargeError, "FRAME_TOO_LARGE");
    expect(decodeServerFrame(bytesOf({ k: "event", room, seq: 1, type: "t", body })).ok).toBe(true);
    const small = { ...defaultProtocolLimits(), maxInternalFrameBytes: 100 };
    const frame = bytesOf({ k: "event", room, seq: 1, type: "t", body });
    const event = bytesOf({ k: "ev", epoch: 1, seq: 1, type: "t", frame });
    expectError(decodeRoomEvent(event, small), FrameTooLargeError, "FRAME_TOO_LARGE");
  });
});

const malformed: [string, Uint8Array][] = [
  ["empty message", new Uint8Array()],
  ["an array", bytesOf([1, 2])],
  ["a string", bytesOf("ping")],
  ["an integer", Uint8Array.of(0x01)],
  ["a truncated map", Uint8Array.of(0x82, ...kPing)],
  ["a truncated string", Uint8Array.of(0x81, ...fixstr("k"), 0xa4, 0x70)],
  ["trailing bytes", Uint8Array.of(0x81, ...kPing, 0xc0)],
  ["two frames in one message", concat(bytesOf({ k: "ping", t: 1 }), bytesOf({ k: "ping", t: 2 }))],
  ["the reserved byte 0xc1", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xc1)],
  ["a msgpackr record extension", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xd4, 0x72, 0x40)],
  ["a msgpackr Error extension", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xd4, 0x65, 0x00)],
  ["a msgpackr RegExp extension", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xd4, 0x78, 0x90)],
  ["a timestamp extension", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xd6, 0xff, 0, 0, 0, 1)],
  ["an ext8 extension", Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xc7, 0x01, 0x05, 0x00)],
  ["an integer map key", Uint8Array.of(0x82, ...kPing, 0x01, 0x02)],
  ["a nil map key", Uint8Array.of(0x82, ...kPing, 0xc0, 0x02)],
  ["an array map key", Uint8Array.of(0x82, ...kPing, 0x91, 0xa1, 0x61, 0x02)],
  ["a __proto__ key", bytesOf(JSON.parse('{"k":"ping","t":1,"__proto__":{"polluted":true}}'))],
  [
    "a nested __proto__ key",
    bytesOf({
      k: "input",
      room,
      seq: 1,
      type: "x",
      body: JSON.parse('{"a":{"__proto__":{"p":1}}}'),
    }),
  ],
  [
    "an array claiming 2^32-1 items",
    Uint8Array.of(0x82, ...kPing, ...fixstr("t"), 0xdd, 0xff, 0xff, 0xff, 0xff),
  ],
  ["a map claiming 65535 entries", Uint8Array.of(0xde, 0xff, 0xff, ...kPing)],
  [
    "a str32 claiming 4 GiB",
    Uint8Array.of(0x81, ...fixstr("k"), 0xdb, 0xff, 0xff, 0xff, 0xff, 0x61),
  ],
  ["no k", bytesOf({ t: 1 })],
  ["a numeric k", bytesOf({ k: 1 })],
  ["a nil k", bytesOf({ k: null })],
];

describe("codec - malformed input", () => {
  for (const [what, bytes] of malformed) {
    it(`codec - rejects ${what} as BAD_FRAME`, () => {
      for (const decode of allDecoders())
        expectError(decode(bytes), MalformedFrameError, "BAD_FRAME");
    });
  }

  it("codec - a __proto__ key pollutes nothing", () => {
    decodeClientFrame(bytesOf(JSON.parse('{"k":"ping","t":1,"__proto__":{"polluted":true}}')));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("codec - bounds nesting depth without recursing", () => {
    const deep = (levels: number) => {
      let body: unknown = 1;
      for (let i = 0; i < levels; i++) body = [body];
      return bytesOf({ k: "input", room, seq: 1, type: "x", body });
    };
    expect(decodeClientFrame(deep(31)).ok).toBe(true); // frame map + 31 arrays = 32
    expectError(decodeClientFrame(deep(32)), MalformedFrameError, "BAD_FRAME");
    const huge = new Uint8Array(64 * 1024).fill(0x91);
    huge[0] = 0x81;
    expectError(decodeClientFrame(huge), MalformedFrameError, "BAD_FRAME");
  });

  it("codec - a non-binary input is BAD_FRAME, not an exception", () => {
    expectError(decodeClientFrame("hello" as never), MalformedFrameError, "BAD_FRAME");
    expectError(decodeClientFrame(null as never), MalformedFrameError, "BAD_FRAME");
  });
});

describe("codec - unknown kinds", () => {
  const kinds = ["nope", "constructor", "toString", "__proto_", "__proto__", "hasOwnProperty", ""];
  for (const kind of kinds) {
    it(`codec - rejects kind ${JSON.stringify(kind)} as UNKNOWN_KIND`, () => {
      for (const decode of allDecoders()) {
        const error = expectError(decode(bytesOf({ k: kind })), UnknownFrameError, "UNKNOWN_KIND");
        expect((error as UnknownFrameError).kind).toBe(kind);
      }
    });
  }

  it("codec - a kind of the other direction is UNKNOWN_KIND", () => {
    expectError(decodeClientFrame(bytesOf({ k: "welcome" })), UnknownFrameError, "UNKNOWN_KIND");
    expectError(decodeServerFrame(bytesOf({ k: "hello" })), UnknownFrameError, "UNKNOWN_KIND");
    expectError(decodeRoomRequest(bytesOf({ k: "ev" })), UnknownFrameError, "UNKNOWN_KIND");
  });
});

const session = "Sx7Qm2Lp9Zt4Wn8R";
const hello = { k: "hello", v: 1, token: "t.t.t", session };
const input = { k: "input", room, seq: 1, type: "move", body: null };
const view = { id: alice, user: "alice@example.com", name: "A", joinedAt: 1 };
const joined = {
  k: "joined",
  ref: 1,
  room,
  epoch: 1,
  seq: 5,
  mode: "snapshot",
  members: [view],
  leader: alice,
};
const member = {
  id: alice,
  user: "alice@example.com",
  name: "A",
  gateway: "g",
  gatewayEpoch: "e",
  conn: "c",
};

const invalidFields: [string, Decode, Record<string, unknown>, string][] = [
  ["hello with version 2", decodeClientFrame, { ...hello, v: 2 }, "v"],
  ["hello without token", decodeClientFrame, { ...hello, token: undefined }, "token"],
  ["hello with an empty token", decodeClientFrame, { ...hello, token: "" }, "token"],
  ["hello with a short session", decodeClientFrame, { ...hello, session: "abc" }, "session"],
  [
    "hello with a session holding ':'",
    decodeClientFrame,
    { ...hello, session: `${session}:x` },
    "session",
  ],
  ["join with a negative ref", decodeClientFrame, { k: "join", ref: -1, room }, "ref"],
  ["join without room", decodeClientFrame, { k: "join", ref: 1 }, "room"],
  [
    "join with room as a string",
    decodeClientFrame,
    { k: "join", ref: 1, room: "chess/g1" },
    "room",
  ],
  [
    "join with a dotted room type",
    decodeClientFrame,
    { k: "join", ref: 1, room: { type: "a.b", id: "x" } },
    "room.type",
  ],
  [
    "join with a wildcard room id",
    decodeClientFrame,
    { k: "join", ref: 1, room: { type: "a", id: "*" } },
    "room.id",
  ],
  [
    "join with a 129-char room id",
    decodeClientFrame,
    { k: "join", ref: 1, room: { type: "a", id: "x".repeat(129) } },
    "room.id",
  ],
  [
    "join with since but no epoch",
    decodeClientFrame,
    { k: "join", ref: 1, room, since: 3 },
    "epoch",
  ],
  [
    "join with epoch but no since",
    decodeClientFrame,
    { k: "join", ref: 1, room, epoch: 3 },
    "since",
  ],
  ["leave with a float ref", decodeClientFrame, { k: "leave", ref: 1.5, room }, "ref"],
  ["input with seq 0", decodeClientFrame, { ...input, seq: 0 }, "seq"],
  ["input with a fractional seq", decodeClientFrame, { ...input, seq: 1.5 }, "seq"],
  ["input with seq 2^53", decodeClientFrame, { ...input, seq: 2 ** 53 }, "seq"],
  ["input with a string seq", decodeClientFrame, { ...input, seq: "1" }, "seq"],
  ["input with a reserved $ type", decodeClientFrame, { ...input, type: "$join" }, "type"],
  ["input with a space in its type", decodeClientFrame, { ...input, type: "a b" }, "type"],
  ["ping with NaN", decodeClientFrame, { k: "ping", t: NaN }, "t"],
  ["ping with a boolean", decodeClientFrame, { k: "ping", t: true }, "t"],
  [
    "welcome with zero maxRooms",
    decodeServerFrame,
    {
      k: "welcome",
      v: 1,
      conn: "c",
      member: alice,
      gateway: "g",
      limits: { maxFrameBytes: 1, maxRooms: 0, ratePerSec: 1, burst: 1 },
      heartbeatMs: 1,
    },
    "limits.maxRooms",
  ],
  [
    "welcome with a bad member id",
    decodeServerFrame,
    { k: "welcome", v: 1, conn: "c", member: "alice", gateway: "g", limits: {}, heartbeatMs: 1 },
    "member",
  ],
  [
    "joined in replay mode without replay",
    decodeServerFrame,
    { ...joined, mode: "replay" },
    "replay",
  ],
  ["joined with an unknown mode", decodeServerFrame, { ...joined, mode: "diff" }, "mode"],
  [
    "joined with replay seqs out of order",
    decodeServerFrame,
    {
      ...joined,
      mode: "replay",
      replay: [
        { seq: 4, type: "a" },
        { seq: 3, type: "a" },
      ],
    },
    "replay[1].seq",
  ],
  [
    "joined with a replay past seq",
    decodeServerFrame,
    { ...joined, mode: "replay", replay: [{ seq: 6, type: "a" }] },
    "replay[0].seq",
  ],
  [
    "joined with a member lacking joinedAt",
    decodeServerFrame,
    { ...joined, members: [{ ...view, joinedAt: undefined }] },
    "members[0].joinedAt",
  ],
  [
    "joined with a control character in a name",
    decodeServerFrame,
    { ...joined, members: [{ ...view, name: "a\u0007" }] },
    "members[0].name",
  ],
  ["joined with a bad leader", decodeServerFrame, { ...joined, leader: 7 }, "leader"],
  [
    "a $join event with a bad body",
    decodeServerFrame,
    { k: "event", room, seq: 1, type: "$join", body: { id: alice } },
    "body.user",
  ],
  [
    "a $leave event with an unknown reason",
    decodeServerFrame,
    { k: "event", room, seq: 1, type: "$leave", body: { id: alice, reason: "bored" } },
    "body.reason",
  ],
  [
    "a $leader event with a non-map body",
    decodeServerFrame,
    { k: "event", room, seq: 1, type: "$leader", body: [alice] },
    "body",
  ],
  [
    "an error with an unknown code",
    decodeServerFrame,
    { k: "error", code: "OOPS", message: "" },
    "code",
  ],
  ["an ack with a string dup", decodeServerFrame, { k: "ack", room, seq: 1, dup: "yes" }, "dup"],
  [
    "a room join without a gateway epoch",
    decodeRoomRequest,
    { k: "join", member: { ...member, gatewayEpoch: undefined } },
    "member.gatewayEpoch",
  ],
  ["a room leave without conn", decodeRoomRequest, { k: "leave", member: alice }, "conn"],
  [
    "a room input with a bad member",
    decodeRoomRequest,
    { k: "input", member: "x", seq: 1, type: "t" },
    "member",
  ],
  ["an acked reply with seq 0", decodeRoomReply, { k: "acked", seq: 0 }, "seq"],
  ["an err reply without message", decodeRoomReply, { k: "err", code: "INTERNAL" }, "message"],
  ["an event with epoch 0", decodeRoomEvent, { k: "ev", epoch: 0, seq: 1, type: "t" }, "epoch"],
  [
    "an event without its frame",
    decodeRoomEvent,
    { k: "ev", epoch: 1, seq: 1, type: "t" },
    "frame",
  ],
  [
    "an event whose frame is not bytes",
    decodeRoomEvent,
    { k: "ev", epoch: 1, seq: 1, type: "t", frame: "x" },
    "frame",
  ],
  [
    "an event with `to` not a list",
    decodeRoomEvent,
    { k: "ev", epoch: 1, seq: 1, type: "t", frame: new Uint8Array([0x80]), to: alice },
    "to",
  ],
  [
    "an event with a bad recipient",
    decodeRoomEvent,
    { k: "ev", epoch: 1, seq: 1, type: "t", frame: new Uint8Array([0x80]), to: [alice, "x"] },
    "to[1]",
  ],
  [
    "a place request with a bad room",
    decodePlaceRequest,
    { k: "place", room: { type: "", id: "x" } },
    "room.type",
  ],
  ["a placed reply without node", decodePlaceReply, { k: "placed", epoch: 1 }, "node"],
  [
    "a down notice with an unknown role",
    decodeDownNotice,
    { k: "down", role: "db", id: "x", epoch: "e" },
    "role",
  ],
];

describe("codec - invalid fields", () => {
  for (const [what, decode, frame, fieldPath] of invalidFields) {
    it(`codec - rejects ${what} as INVALID_FIELD ${fieldPath}`, () => {
      const error = expectError(decode(bytesOf(frame)), InvalidFieldError, "INVALID_FIELD");
      expect((error as InvalidFieldError).field).toBe(fieldPath);
      expect(error.message.startsWith(`${fieldPath}: expected`)).toBe(true);
    });
  }
});

function allDecoders(): Decode[] {
  return [
    decodeClientFrame,
    decodeServerFrame,
    decodeRoomRequest,
    decodeRoomReply,
    decodeRoomEvent,
    decodePlaceRequest,
    decodePlaceReply,
    decodeDownNotice,
  ];
}
