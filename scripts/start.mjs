#!/usr/bin/env node
// `npm start`: a whole local Rookery in the co-located shape. It starts a
// nats-server with JetStream (data under .data/, on a free port; or uses
// NATS_URL when given) and two Rookery processes (one per core), each both
// gateway and actor node, both serving the demo page; prints the URLs, and
// stops everything cleanly on Ctrl-C. Plain Node with no dependencies.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findNatsServer } from "./nats-binary.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const children = [];
let stopping = false;

function freePort(preferred = 0) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(freePort(0)));
    server.listen(preferred, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function waitForPort(port, ms) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = tcpConnect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on port ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts a child; resolves with its first stdout line matching `ready` (or at once). */
function start(name, command, args, env, ready) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push({ name, child });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`rookery: ${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  let buffered = "";
  return new Promise((resolve, reject) => {
    child.once("exit", () => reject(new Error(`${name} exited before it was ready`)));
    child.stdout.on("data", (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (ready && ready.test(line)) resolve(line);
    });
    if (!ready) resolve("");
  });
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Rookery processes first (clients move, rooms are handed over), then the broker.
  for (const group of [["rookery-1", "rookery-2"], ["nats-server"]]) {
    const exits = children
      .filter(({ name, child }) => group.includes(name) && child.exitCode === null)
      .map(({ child }) => {
        child.kill("SIGTERM");
        return new Promise((resolve) => child.once("exit", resolve));
      });
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
  }
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
  process.exit(code);
}

async function main() {
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const binary = findNatsServer();
    if (!binary) {
      console.error(
        "rookery: nats-server not found; run `sudo apt-get install -y nats-server` or set NATS_URL",
      );
      process.exit(1);
    }
    const port = await freePort();
    const storeDir = join(root, ".data", "nats");
    mkdirSync(storeDir, { recursive: true });
    const log = join(root, ".data", "nats-server.log");
    const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir, "-l", log];
    void start("nats-server", binary, args, {}, undefined);
    await waitForPort(port, 10_000);
    natsUrl = `nats://127.0.0.1:${port}`;
  }
  const common = { NATS_URL: natsUrl, ROOKERY_LOG_LEVEL: process.env.ROOKERY_LOG_LEVEL ?? "warn" };
  const tsx = ["--import", "tsx"];
  const secret = process.env.ROOKERY_TOKEN_SECRET ?? randomBytes(24).toString("base64url");
  const first = await freePort(Number(process.env.PORT ?? 8080));
  const ports = [first, first === 0 ? 0 : await freePort(0)];
  const lines = await Promise.all(
    ["rookery-1", "rookery-2"].map((id, i) =>
      start(
        id,
        process.execPath,
        [...tsx, "services/server/src/main.ts"],
        {
          ...common,
          ROOKERY_ID: id,
          ROOKERY_METRICS_PORT: "0",
          ROOKERY_GATEWAY_PORT: String(ports[i]),
          ROOKERY_GATEWAY_HOST: "127.0.0.1",
          ROOKERY_TOKEN_SECRET: secret,
          ROOKERY_DEMO: "1",
        },
        /"event":"ready"/,
      ),
    ),
  );
  const ready = lines.map((line) => JSON.parse(line));
  console.log(`Rookery is running (NATS ${natsUrl}; 2 processes, each gateway and node).`);
  console.log(`  demo page:  http://127.0.0.1:${ready[0].port}/   (open it in two tabs)`);
  for (const r of ready) {
    console.log(
      `  ${r.id}: ${r.url}   discovery http://127.0.0.1:${r.port}/discover   metrics http://127.0.0.1:${r.port}/metrics, :${r.metricsPort}/metrics`,
    );
  }
  console.log("Press Ctrl-C to stop.");
}

main().catch((error) => {
  console.error(`rookery: ${error.message}`);
  void stopAll(1);
});
