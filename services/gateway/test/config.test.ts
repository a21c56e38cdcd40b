import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { GatewayConfigError, gatewayOptionsFromEnv, resolveGatewayOptions } from "@rookery/gateway";

const docs = readFileSync(new URL("../../../docs/gateway.md", import.meta.url), "utf8");
const secret = "s".repeat(32);

function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("gateway config", () => {
  test("config - the environment sets ports, limits and the secret", () => {
    const options = gatewayOptionsFromEnv({
      NATS_URL: "nats://a:4222,nats://b:4222",
      ROOKERY_GATEWAY_PORT: "9000",
      ROOKERY_TOKEN_SECRET: secret,
      ROOKERY_MAX_ROOMS: "4",
      ROOKERY_DEMO: "1",
    });
    const resolved = resolveGatewayOptions(options);
    expect(resolved).toMatchObject({
      natsUrl: ["nats://a:4222", "nats://b:4222"],
      port: 9000,
      demo: true,
      reconnectGraceMs: 5000,
      totalWaitMs: 20_000,
      limits: { maxRooms: 4, ratePerSec: 50, maxFrameBytes: 65536 },
    });
    const waited = gatewayOptionsFromEnv({ ROOKERY_ROOM_WAIT_MS: "30000" });
    expect(resolveGatewayOptions({ ...waited, secret }).totalWaitMs).toBe(30_000);
  });

  test("config - invalid values and a missing or short secret fail with CONFIG_INVALID", () => {
    for (const [name, value] of [
      ["ROOKERY_GATEWAY_PORT", "http"],
      ["ROOKERY_RATE_PER_SEC", "0"],
      ["ROOKERY_DRAIN_MS", "-5"],
      ["ROOKERY_ROOM_WAIT_MS", "10"],
    ]) {
      const error = failure(() => gatewayOptionsFromEnv({ [name!]: value }));
      expect(error).toBeInstanceOf(GatewayConfigError);
      expect(error).toMatchObject({
        code: "CONFIG_INVALID",
        message: expect.stringContaining(name!),
      });
    }
    for (const bad of [undefined, "short"]) {
      const error = failure(() => resolveGatewayOptions({ secret: bad }));
      expect(error).toMatchObject({ code: "CONFIG_INVALID", name: "GatewayConfigError" });
    }
  });

  test("errors - gateway error codes are named and documented", () => {
    const error = new GatewayConfigError("x");
    expect(error.name).toBe("GatewayConfigError");
    expect(docs).toContain(`\`${error.code}\``);
    expect(docs).toContain("`GatewayConfigError`");
  });
});
