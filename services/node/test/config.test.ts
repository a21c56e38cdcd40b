import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ConfigError, nodeConfigFromEnv } from "@rookery/node";
import {
  HandlerTimeoutError,
  InputRejectedError,
  JournalGapError,
  JournalReplayError,
  NotJoinedError,
} from "@rookery/actors";
import { StorageFaultError } from "@rookery/actors/internal";
import { PresenceListTimeoutError } from "@rookery/actors/nats";
import { NoRespondersError, RequestAbortedError, RequestTimeoutError } from "@rookery/cluster";

const docs = readFileSync(new URL("../../../docs/node.md", import.meta.url), "utf8");

describe("node config", () => {
  test("config - defaults, lists and numbers come from the environment", () => {
    const config = nodeConfigFromEnv({
      NATS_URL: "nats://a:4222, nats://b:4222",
      ROOKERY_ID: "node-7",
      ROOKERY_HEARTBEAT_TAGS: "server:0,server:1,server:2",
      ROOKERY_REPLICAS: "3",
    });
    expect(config).toMatchObject({
      natsUrl: ["nats://a:4222", "nats://b:4222"],
      id: "node-7",
      heartbeatTags: ["server:0", "server:1", "server:2"],
      replicas: 3,
      heartbeatTtlMs: 3000,
      prefix: "rk",
    });
  });

  test("config - an invalid value fails with CONFIG_INVALID naming the variable", () => {
    for (const [name, value] of [
      ["ROOKERY_REPLICAS", "three"],
      ["ROOKERY_HEARTBEAT_TTL_MS", "10"],
      ["ROOKERY_IDLE_MS", "-1"],
    ]) {
      const error = (() => {
        try {
          nodeConfigFromEnv({ [name!]: value });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringContaining(name!),
      });
    }
  });

  test("errors - runtime error codes are unique, named and documented", () => {
    const errors = [
      new ConfigError("x"),
      new HandlerTimeoutError(1),
      new InputRejectedError("x"),
      new NotJoinedError("x"),
      new NoRespondersError("x"),
      new RequestTimeoutError("x"),
      new RequestAbortedError("x"),
      new JournalGapError("t.i", 1),
      new JournalReplayError("t.i", "input", 1),
      new StorageFaultError("x"),
      new PresenceListTimeoutError("t/i", 1),
    ];
    const codes = errors.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of errors) {
      expect(e.name).toBe(e.constructor.name);
      expect(docs).toContain(`\`${e.code}\``);
    }
  });
});
