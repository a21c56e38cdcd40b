/**
 * Issue 15, acceptance: a TLS-only nats-server with a CA made in the test.
 * Nodes, gateways and the CLI connect with the CA (and a client
 * certificate: the server verifies clients) and fail with a clear error
 * without it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main as cli } from "@rookery/cli";
import {
  makeTestCa,
  spawnChild,
  startNatsServer,
  testNamespace,
  type NatsServer,
  type TestCa,
} from "@rookery/testkit";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { fixtures, startNode } from "../../services/node/test/nodes";

const prefix = testNamespace("security tls");
let dir: string;
let ca: TestCa;
let server: NatsServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rookery-tls-"));
  ca = makeTestCa(dir);
  server = await startNatsServer({
    tls: { cert: ca.serverCert, key: ca.serverKey, ca: ca.ca, verify: true },
  });
}, 30_000);

afterAll(async () => {
  await server?.[Symbol.asyncDispose]();
  rmSync(dir, { recursive: true, force: true });
});

const withCa = () => ({
  NATS_TLS_CA: ca.ca,
  NATS_TLS_CERT: ca.clientCert,
  NATS_TLS_KEY: ca.clientKey,
});

/** The stderr of a process that must exit non-zero at start. */
async function failsToStart(script: string, env: Record<string, string>): Promise<string> {
  const child = await spawnChild({
    script,
    env: { NATS_URL: server.url, ROOKERY_PREFIX: prefix, ROOKERY_LOG_LEVEL: "warn", ...env },
  });
  const failure = await child.waitForLine(/"event":"ready"/, 20_000).then(
    () => "started",
    (error: unknown) => String((error as Error).message),
  );
  expect(await child.exited).not.toBe(0);
  return failure;
}

describe("security - TLS", () => {
  test("without the CA a node fails at start with a clear error", async () => {
    const out = await failsToStart(
      new URL("../../services/node/src/main.ts", import.meta.url).pathname,
      {
        ROOKERY_ID: "tls-node-x",
        ROOKERY_ROOM_MODULES: fixtures,
        ROOKERY_METRICS_PORT: "0",
      },
    );
    expect(out).toMatch(/cannot connect to NATS.*(certificate|TLS).*NATS_TLS_CA/s);
  });

  test("without the CA a gateway fails at start with a clear error", async () => {
    const out = await failsToStart(
      new URL("../../services/gateway/src/main.ts", import.meta.url).pathname,
      {
        ROOKERY_ID: "tls-gw-x",
        ROOKERY_TOKEN_SECRET: "s".repeat(32),
        ROOKERY_GATEWAY_HOST: "127.0.0.1",
        ROOKERY_GATEWAY_PORT: "0",
      },
    );
    expect(out).toMatch(/cannot connect to NATS.*(certificate|TLS).*NATS_TLS_CA/s);
  });

  test("without the CA the CLI fails with a clear error", async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      const code = await cli(["--server", server.url, "--prefix", prefix, "nodes"], () => {});
      expect(code).toBe(1);
    } finally {
      console.error = original;
    }
    expect(errors.join("\n")).toMatch(/cannot connect to NATS.*(certificate|TLS).*--tls-ca/s);
  });

  test("with the CA a node, a gateway and the CLI connect", async () => {
    const node = await startNode(server.url, prefix, "tls-node", withCa());
    const gateway = await startGatewayProcess(server.url, prefix, "tls-gw", withCa());
    try {
      const lines: string[] = [];
      const flags = ["--tls-ca", ca.ca, "--tls-cert", ca.clientCert, "--tls-key", ca.clientKey];
      const code = await cli(
        ["--server", server.url, "--prefix", prefix, ...flags, "--json", "nodes"],
        (l) => lines.push(l),
      );
      expect(code).toBe(0);
      expect(lines.join("\n")).toMatch(/tls-node[\s\S]*tls-gw|tls-gw[\s\S]*tls-node/);
    } finally {
      await gateway.child.kill("SIGTERM");
      await node.kill("SIGTERM");
    }
  }, 60_000);
});
