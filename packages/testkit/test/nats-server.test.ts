import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { describe, expect, test } from "vitest";
import { NatsServerStartError, startNatsServer, testNamespace, until } from "../src/index";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves on the connection's next reconnect: requests sent while disconnected may be lost. */
async function reconnected(nc: NatsConnection): Promise<void> {
  for await (const status of nc.status()) if (status.type === "reconnect") return;
}

describe("testkit - single server", () => {
  test("testkit - single server serves JetStream KV across kill and restart", async () => {
    await using server = await startNatsServer();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(4222);
    const nc = await connect({ servers: server.url, reconnectTimeWait: 50 });
    try {
      const kv = await new Kvm(nc).create(testNamespace("single server kv"));
      await kv.put("greeting", "hello");
      expect((await kv.get("greeting"))?.string()).toBe("hello");

      const { url, storeDir } = server;
      const oldPid = server.pid;
      const back = reconnected(nc);
      await server.kill();
      expect(server.pid).toBeUndefined();
      await server.restart();
      expect(server.pid).not.toBe(oldPid);
      expect(server.url).toBe(url);
      expect(server.storeDir).toBe(storeDir);
      await back;

      const entry = await until(() => kv.get("greeting"), 5_000, "key readable after restart");
      expect(entry.string()).toBe("hello");
      const fresh = await connect({ servers: url });
      const again = await new Kvm(fresh).open(testNamespace("single server kv"));
      expect((await again.get("greeting"))?.string()).toBe("hello");
      await fresh.close();
    } finally {
      await nc.close();
    }
  });

  test("testkit - paused server answers nothing until resumed", async () => {
    await using server = await startNatsServer({ jetstream: false });
    const nc = await connect({ servers: server.url });
    try {
      nc.subscribe("echo", {
        callback: (_err, msg) => {
          msg.respond(msg.data);
        },
      });
      expect((await nc.request("echo", "before", { timeout: 1_000 })).string()).toBe("before");

      server.pause();
      await expect(nc.request("echo", "paused", { timeout: 300 })).rejects.toThrow();
      const flush = nc.flush().then(() => "flushed");
      expect(await Promise.race([flush, sleep(300).then(() => "pending")])).toBe("pending");

      server.resume();
      expect(await flush).toBe("flushed");
      expect((await nc.request("echo", "after", { timeout: 1_000 })).string()).toBe("after");
    } finally {
      await nc.close();
    }
  });

  test("testkit - a server that cannot start fails with its output", async () => {
    const error = await startNatsServer({ args: ["--no_such_flag"] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerStartError);
    expect((error as NatsServerStartError).code).toBe("NATS_SERVER_START");
    expect(String(error)).toMatch(/exited during startup[\s\S]*no_such_flag/);
  });

  test("testkit - stop is idempotent and dispose removes the store dir", async () => {
    const { existsSync } = await import("node:fs");
    const server = await startNatsServer({ jetstream: false });
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    await server.stop();
    expect(server.pid).toBeUndefined();
    await server[Symbol.asyncDispose]();
    expect(existsSync(server.storeDir)).toBe(false);
  });
});
