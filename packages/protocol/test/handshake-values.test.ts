import { describe, expect, it } from "vitest";
import {
  decodeClientFrame,
  decodeServerFrame,
  InvalidFieldError,
  isValue,
  type DecodeResult,
} from "@rookery/protocol";
import { alice, room } from "./fixtures";
import { bytesOf, concat, fixstr } from "./helpers";

const input = (body: unknown) => bytesOf({ k: "input", room, seq: 1, type: "move", body });

function invalidField(result: DecodeResult<unknown>): InvalidFieldError {
  expect(result.ok, JSON.stringify(result)).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.error).toBeInstanceOf(InvalidFieldError);
  return result.error as InvalidFieldError;
}

describe("protocol - finite numbers in client application data (§1)", () => {
  it("protocol - NaN and ±Infinity in an input body are INVALID_FIELD with their path", () => {
    const cases: [unknown, string][] = [
      [NaN, "body"],
      [{ x: Infinity }, "body.x"],
      [{ pos: [1, 2, -Infinity] }, "body.pos[2]"],
      [[{ a: { b: NaN } }], "body[0].a.b"],
    ];
    for (const [body, path] of cases) {
      const error = invalidField(decodeClientFrame(input(body)));
      expect(error.field).toBe(path);
      expect(error.message).toBe(`${path}: expected a finite number`);
      expect(error.context).toMatchObject({ room, seq: 1 });
    }
  });

  it("protocol - a float32 NaN is rejected like a float64 one", () => {
    const head = [0x85, ...fixstr("k"), ...fixstr("input"), ...fixstr("room")];
    const roomMap = [
      0x82,
      ...fixstr("type"),
      ...fixstr("chess"),
      ...fixstr("id"),
      ...fixstr("g42"),
    ];
    const rest = [...fixstr("seq"), 0x01, ...fixstr("type"), ...fixstr("move"), ...fixstr("body")];
    const bytes = concat(head, roomMap, rest, [0xca, 0x7f, 0xc0, 0x00, 0x00]);
    expect(invalidField(decodeClientFrame(bytes)).field).toBe("body");
  });

  it("protocol - finite numbers, extreme ones included, pass", () => {
    const body = { a: Number.MAX_VALUE, b: -Number.MIN_VALUE, c: [0.5, -3, 2 ** 60] };
    const decoded = decodeClientFrame(input(body));
    expect(decoded.ok && decoded.frame.k === "input" && decoded.frame.body).toEqual(body);
  });

  it("protocol - an unknown field holding NaN is dropped like any unknown field", () => {
    const decoded = decodeClientFrame(bytesOf({ k: "ping", t: 1, extra: NaN }));
    expect(decoded).toEqual({ ok: true, frame: { k: "ping", t: 1 } });
  });

  it("protocol - isValue refuses non-finite numbers", () => {
    expect(isValue(1.5)).toBe(true);
    expect(isValue(NaN)).toBe(false);
    expect(isValue({ a: [Infinity] })).toBe(false);
    expect(isValue([-Infinity])).toBe(false);
  });
});

describe("protocol - welcome limits and hello tokens", () => {
  const welcome = {
    k: "welcome",
    v: 1,
    conn: "c-1",
    member: alice,
    gateway: "gw-a",
    limits: { maxFrameBytes: 65536, maxRooms: 16, ratePerSec: 50, burst: 100 },
    heartbeatMs: 15000,
  };
  const announced = { idleTimeoutMs: 45000, maxErrorsPerMinute: 30, maxDepth: 32 };

  it("protocol - welcome carries idleTimeoutMs, maxErrorsPerMinute and maxDepth", () => {
    const full = { ...welcome, limits: { ...welcome.limits, ...announced } };
    expect(decodeServerFrame(bytesOf(full))).toEqual({ ok: true, frame: full });
  });

  it("protocol - a welcome without them (an earlier gateway) still decodes", () => {
    expect(decodeServerFrame(bytesOf(welcome))).toEqual({ ok: true, frame: welcome });
  });

  it("protocol - announced limits are positive integers", () => {
    const bad = { ...welcome, limits: { ...welcome.limits, ...announced, maxDepth: 0 } };
    expect(invalidField(decodeServerFrame(bytesOf(bad))).field).toBe("limits.maxDepth");
  });

  it("protocol - a hello's token length is the verifier's to judge (AUTH_FAILED), not the decoder's", () => {
    const hello = { k: "hello", v: 1, token: "t".repeat(9000), session: "Sx7Qm2Lp9Zt4Wn8R" };
    expect(decodeClientFrame(bytesOf(hello)).ok).toBe(true);
    expect(invalidField(decodeClientFrame(bytesOf({ ...hello, token: "" }))).field).toBe("token");
  });
});
