/**
 * Image smoke test without Docker (issue 13): the runtime stage of
 * deploy/Dockerfile is reproduced in a temporary folder from the Dockerfile
 * itself (its COPY lines, its RUN lines run as written, its ENV), then its
 * CMD runs against a real nats-server: a client joins a room and sends an
 * input over a WebSocket, the HEALTHCHECK passes, and SIGTERM drains the
 * process (the client is told to move, the gateway role drains before the
 * node role, exit 0).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type RookeryClient } from "@rookery/client";
import { startNatsServer, until, type NatsServer } from "@rookery/testkit";
import { parseDockerfile, reproduceCopies, stageEnv, words, type Stage } from "./dockerfile";

const root = new URL("../..", import.meta.url).pathname;
const SECRET = "image-smoke-test-secret-0123456789abcdef";
let dir = "";
let nats: NatsServer | undefined;
const children: ChildProcess[] = [];
let stages: Stage[] = [];
let runtime: Stage;

beforeAll(() => {
  stages = parseDockerfile(readFileSync(join(root, "deploy/Dockerfile"), "utf8"));
  runtime = stages[stages.length - 1]!;
  dir = mkdtempSync(join(tmpdir(), "rookery-image-"));
}, 120_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await nats?.kill().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Every line the process writes, and a promise per wanted line. */
function lines(child: ChildProcess): {
  all: string[];
  wait(re: RegExp, ms: number): Promise<string>;
} {
  const all: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      all.push(line);
      for (const w of [...waiters]) if (w.re.test(line)) w.resolve(line);
    });
  }
  return {
    all,
    wait: (re, ms) => {
      const seen = all.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no line ${String(re)} in ${ms} ms:\n${all.slice(-30).join("\n")}`)),
          ms,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}

describe("deploy - image smoke test (Dockerfile runtime stage, no Docker)", () => {
  it("image - the runtime stage's files, installed as the Dockerfile does, serve a room and drain on SIGTERM", async () => {
    // The build stage is this checkout, built.
    run(process.execPath, ["scripts/build.mjs"], root);
    const copied = reproduceCopies(runtime, stages, root, dir);
    // Every workspace's package.json is in the image (npm ci links them all).
    const { workspaces } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      workspaces: string[];
    };
    for (const glob of workspaces) {
      expect(copied.some((c) => c.startsWith(glob.replace("/*", "/")))).toBe(true);
    }
    expect(existsSync(join(dir, "services/server/src"))).toBe(false);

    const env = stageEnv(runtime);
    for (const { op, args } of runtime.instructions.filter((i) => i.op === "RUN")) {
      expect(op).toBe("RUN");
      // As written: the production install from the lockfile.
      run("sh", ["-c", args], dir, { ...env, npm_config_prefer_offline: "true" });
    }
    expect(existsSync(join(dir, "node_modules/tsx"))).toBe(true); // the CLI's dependency, not a dev tool
    expect(existsSync(join(dir, "node_modules/vitest"))).toBe(false);
    expect(existsSync(join(dir, "node_modules/typescript"))).toBe(false);

    nats = await startNatsServer();
    const cmd = words(runtime.instructions.findLast((i) => i.op === "CMD")!.args);
    expect(cmd[0]).toBe("node"); // the service is PID 1 in the container: signals reach it
    const serviceEnv = {
      ...env,
      NATS_URL: nats.url,
      ROOKERY_ID: "image-1",
      ROOKERY_TOKEN_SECRET: SECRET,
      ROOKERY_GATEWAY_HOST: "127.0.0.1",
      ROOKERY_GATEWAY_PORT: "0",
      ROOKERY_METRICS_PORT: "0",
      ROOKERY_DRAIN_MS: "1000",
    };
    const child = spawn(process.execPath, cmd.slice(1), {
      cwd: dir,
      env: { PATH: process.env.PATH, ...serviceEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const out = lines(child);
    const ready = JSON.parse(await out.wait(/"event":"ready"/, 30_000)) as {
      port: number;
      metricsPort: number;
    };

    // HEALTHCHECK, run as written, with the container's port variable.
    const health = words(
      runtime.instructions.find((i) => i.op === "HEALTHCHECK")!.args.replace(/^.*?CMD\s+/, ""),
    );
    await until(
      () =>
        spawnSync(health[0]!, health.slice(1), {
          cwd: dir,
          env: { ...process.env, ROOKERY_METRICS_PORT: String(ready.metricsPort) },
        }).status === 0,
      10_000,
      "healthcheck passes",
    );
    const metrics = `http://127.0.0.1:${ready.metricsPort}`;
    expect((await fetch(`${metrics}/healthz`)).status).toBe(200);
    expect((await fetch(`${metrics}/metrics`)).status).toBe(200);

    const token = await new SignJWT({ name: "Ann" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("ann")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(SECRET));
    const client: RookeryClient = await connect({
      discoveryUrl: `http://127.0.0.1:${ready.port}`,
      token: () => token,
      backoffBaseMs: 50,
    });
    const reconnecting: unknown[] = [];
    client.on("reconnecting", (info) => reconnecting.push(info));
    try {
      const room = await client.join("party", "image-smoke");
      expect(await room.send("add", { title: "From the image" })).toEqual({ id: "item-1" });

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await until(() => reconnecting.length > 0, 5_000, "the client is told to move");
    } finally {
      client.close();
    }
    const text = out.all.join("\n");
    expect(text).toMatch(/"gateway drained"/);
    expect(text.indexOf('"gateway drained"')).toBeLessThan(text.indexOf('"node drained"'));
    expect(text).not.toMatch(/"level":(50|60)/);
  }, 120_000);
});
