import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  ClientClosedError,
  ClientOptionsError,
  ConnectionLostError,
  DiscoveryError,
  InputTimeoutError,
  QueueFullError,
  RoomLeftError,
  SeqExpiredError,
} from "@rookery/client";

const docs = readFileSync(new URL("../../../docs/client.md", import.meta.url), "utf8");

describe("client errors", () => {
  test("errors - every SDK error code is unique, named and documented", () => {
    const errors = [
      new QueueFullError(1),
      new ClientClosedError("x"),
      new RoomLeftError("x"),
      new ConnectionLostError("x"),
      new DiscoveryError("x"),
      new ClientOptionsError("x"),
      new SeqExpiredError(1, "x"),
      new InputTimeoutError(1, 60_000),
    ];
    const codes = errors.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const error of errors) {
      expect(error.name).toBe(error.constructor.name);
      expect(docs).toContain(`| \`${error.code}\` | \`${error.name}\` |`);
    }
  });
});
