import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CloseCode,
  closeCodeInfo,
  ErrorCode,
  errorDescriptions,
  errorFromFrame,
  FrameTooLargeError,
  InvalidFieldError,
  MalformedFrameError,
  ProtocolError,
  UnknownFrameError,
} from "@rookery/protocol";

const docs = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
const codes = Object.values(ErrorCode);

const subclasses: [string, ProtocolError][] = [
  ["MalformedFrameError", new MalformedFrameError("m", { cause: "c" })],
  ["UnknownFrameError", new UnknownFrameError("zap", { cause: "c" })],
  ["FrameTooLargeError", new FrameTooLargeError(10, 5, { cause: "c" })],
  ["InvalidFieldError", new InvalidFieldError("room.id", "an id", { cause: "c" })],
];

describe("errors - codes", () => {
  it("errors - every error code is unique and named by itself", () => {
    expect(new Set(codes).size).toBe(codes.length);
    for (const [key, value] of Object.entries(ErrorCode)) expect(value).toBe(key);
  });

  it("errors - every code has a one-line description and nothing else does", () => {
    expect(Object.keys(errorDescriptions).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      expect(errorDescriptions[code].length).toBeGreaterThan(10);
      expect(errorDescriptions[code]).not.toContain("\n");
    }
  });

  it("errors - every code is documented in docs/protocol.md", () => {
    for (const code of codes) expect(docs, code).toContain(`| \`${code}\` |`);
  });

  it("errors - every close code is unique, in 4000-4999, described and documented", () => {
    const values = Object.values(CloseCode);
    expect(new Set(values).size).toBe(values.length);
    expect(Object.keys(closeCodeInfo).map(Number).sort()).toEqual([...values].sort());
    for (const value of values) {
      expect(value).toBeGreaterThanOrEqual(4000);
      expect(value).toBeLessThanOrEqual(4999);
      expect(closeCodeInfo[value].description.length).toBeGreaterThan(10);
      expect(docs, String(value)).toContain(`| ${value} |`);
    }
  });
});

describe("errors - classes", () => {
  it("errors - every Error subclass has a distinct code and sets name", () => {
    const seen = new Set<string>();
    for (const [name, error] of subclasses) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.constructor.name).toBe(name);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
      expect(error.cause).toBe("c");
      expect(codes).toContain(error.code);
      expect(seen.has(error.code), error.code).toBe(false);
      seen.add(error.code);
    }
  });

  it("errors - subclasses carry their details", () => {
    const [, , tooLarge, invalid] = subclasses.map(([, e]) => e);
    expect(tooLarge).toMatchObject({ size: 10, limit: 5, code: "FRAME_TOO_LARGE" });
    expect(invalid).toMatchObject({ field: "room.id", message: "room.id: expected an id" });
    expect(new UnknownFrameError("zap").kind).toBe("zap");
  });

  it("errors - the base class takes any code and keeps context", () => {
    const error = new ProtocolError("ROOM_FORBIDDEN", "no", { context: { ref: 4 } });
    expect(error.name).toBe("ProtocolError");
    expect(error.context).toEqual({ ref: 4 });
    expect(new ProtocolError("INTERNAL", "x").cause).toBeUndefined();
  });

  it("errors - errorFromFrame rebuilds a remote error", () => {
    const room = { type: "chess", id: "g1" };
    const error = errorFromFrame({ code: "NOT_JOINED", message: "join first", room, seq: 3 });
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      code: "NOT_JOINED",
      message: "join first",
      context: { room, seq: 3 },
    });
  });

  it("errors - constructing an error leaves Error.stackTraceLimit as it was", () => {
    const before = Error.stackTraceLimit;
    new MalformedFrameError("x");
    expect(Error.stackTraceLimit).toBe(before);
  });
});
