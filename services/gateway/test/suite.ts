import { afterAll, afterEach, beforeAll } from "vitest";
import { startNatsServer, type NatsServer } from "@rookery/testkit";

// Apart from harness.ts, which benchmarks import outside vitest.
/**
 * One nats-server for a test file, and cleanups registered by each test that
 * run after it, newest first (sockets before gateways before nodes).
 */
export function serverPerFile(): {
  readonly server: NatsServer;
  defer: (cleanup: () => unknown) => void;
} {
  let server: NatsServer | undefined;
  const cleanups: (() => unknown)[] = [];
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error("the file's nats-server is not started yet");
      return server;
    },
    defer: (cleanup) => void cleanups.push(cleanup),
  };
}
