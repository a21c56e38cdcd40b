#!/usr/bin/env node
// `npm start`: a whole local Rookery in the co-located shape. It starts a
// nats-server with JetStream (on a free port; or uses NATS_URL when given)
// and two Rookery processes (one per core), each both gateway and actor
// node, both serving the demo page; prints the URLs and the processes' logs
// (readable, prefixed by process), and the cluster console (`rookery console`,
// docs/console.md) on 127.0.0.1 with the run's admin key and a token made for
// the run; on Ctrl-C stops the console, drains the Rookery processes (each
// its gateway role, then its node role), then stops the broker.
//
// Each run has its own data folder: `.data` when no other `npm start` of
// this checkout is running, else `.data/run-<n>` (its lock file names the
// other run). Children run in their own process groups, so a terminal's
// Ctrl-C (SIGINT to the whole foreground group) reaches this script only,
// and it stops them in order. Its nats-server runs with authentication on:
// one nkey user per role, generated for this run under <data>/auth
// (git-ignored), and each process connects as its roles (docs/security.md).
// Plain Node with no dependencies beyond what is installed.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { tsImport } from "tsx/esm/api";
import { findNatsServer } from "./nats-binary.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOKERY = ["rookery-1", "rookery-2"];
const CONSOLE = "console";
const DRAIN_TIMEOUT_MS = 30_000;
const CONSOLE_STOP_MS = 3_000;
const children = [];
let stopping = false;
let lockFile;

// ---- output ----

const tty = process.stdout.isTTY;
const paint = (code, text) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const LEVELS = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const LEVEL_COLOR = { WARN: 33, ERROR: 31, FATAL: 31, DEBUG: 90, TRACE: 90 };
const width = Math.max(...[...ROOKERY, CONSOLE, "nats-server"].map((n) => n.length));

function say(text) {
  console.log(`${paint(1, "rookery")} ${text}`);
}

/** One pino JSON line as `12:00:01.234 rookery-1 INFO  gateway: message key=value`. */
function formatLog(name, line) {
  let record;
  try {
    record = JSON.parse(line);
  } catch {
    return `${paint(36, name.padEnd(width))} ${line}`;
  }
  // pid, hostname and node are known from the prefix.
  const { level, time, msg, component, sub, err, ...rest } = record;
  delete rest.pid;
  delete rest.hostname;
  delete rest.node;
  const label = LEVELS[level] ?? String(level);
  const when = new Date(time ?? Date.now()).toISOString().slice(11, 23);
  const where = [component, sub].filter(Boolean).join("/");
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  let out =
    `${paint(90, when)} ${paint(36, name.padEnd(width))} ` +
    `${paint(LEVEL_COLOR[label] ?? 32, label.padEnd(5))} ` +
    `${where ? `${where}: ` : ""}${msg ?? ""}${fields ? ` ${paint(90, fields)}` : ""}`;
  if (err) {
    const stack = typeof err === "object" ? (err.stack ?? err.message) : String(err);
    out += `\n${String(stack)
      .split("\n")
      .map((l) => `    ${l}`)
      .join("\n")}`;
  }
  return out;
}

// ---- processes ----

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

/**
 * `preferred` when it is free now, else 0: the child then binds a port the
 * OS picks and reports it. A port probed here and bound by a child seconds
 * later can be taken in between (an outgoing connection's ephemeral port
 * did, in CI: EADDRINUSE).
 */
async function preferredOrAny(preferred) {
  return preferred !== 0 && (await freePort(preferred)) === preferred ? preferred : 0;
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

/**
 * The children run in their own process groups, so nothing would stop them
 * if this script were killed (SIGKILL, an OOM kill): they would keep the
 * data folder's broker and ports. A small reaper, holding a pipe from this
 * script, kills their groups when that pipe closes without a "done" line.
 */
const REAPER = `
const groups = new Set();
process.stdin.setEncoding("utf8");
process.stdin.on("data", (text) => {
  for (const line of text.split("\\n")) {
    if (line === "done") process.exit(0);
    else if (/^[0-9]+$/.test(line)) groups.add(Number(line));
  }
});
process.stdin.on("end", () => {
  for (const group of groups) try { process.kill(-group, "SIGKILL"); } catch {}
  process.exit(0);
});`;
let reaper;

function watchGroup(pid) {
  if (!reaper) {
    reaper = spawn(process.execPath, ["-e", REAPER], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    reaper.unref();
    reaper.stdin.unref?.();
    reaper.stdin.on("error", () => undefined);
  }
  reaper.stdin.write(`${pid}\n`);
}

/** Tells the reaper that every child is stopped (this script exits on its own); resolves once it exited. */
async function releaseReaper() {
  if (!reaper || reaper.exitCode !== null) return;
  const exited = new Promise((resolve) => reaper.once("exit", resolve));
  reaper.stdin.end("done\n");
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
}

/**
 * Starts a child in its own process group (a terminal's Ctrl-C reaches this
 * script only; the children are stopped in order). `onLine` gets every
 * output line; resolves with the first stdout line matching `ready` (or at once).
 */
function start(name, command, args, env, { ready, onLine }) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  if (child.pid) watchGroup(child.pid);
  const entry = {
    name,
    child,
    exited: new Promise((r) => child.once("exit", (c, s) => r(s ?? c))),
  };
  children.push(entry);
  void entry.exited.then((how) => {
    if (!stopping) {
      say(`${name} exited (${how}); stopping everything`);
      void stopAll(1);
    }
  });
  return new Promise((resolve, reject) => {
    void entry.exited.then(() => reject(new Error(`${name} exited before it was ready`)));
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
        if (ready && stream === child.stdout && ready.test(line)) resolve(line);
        else onLine(line);
      });
    }
    if (!ready) resolve("");
  });
}

/** Stops the console, the Rookery processes (each drains its gateway role, then its node role), then the broker. */
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  let failed = code !== 0;
  for (const group of [[CONSOLE], ROOKERY, ["nats-server"]]) {
    const running = children.filter(
      ({ name, child }) =>
        group.includes(name) && child.exitCode === null && child.signalCode === null,
    );
    if (running.length === 0) continue;
    say(
      group === ROOKERY
        ? `draining ${running.map((c) => c.name).join(", ")}`
        : `stopping ${running.map((c) => c.name).join(", ")}`,
    );
    // nats-server exits 0 on SIGINT (1 on SIGTERM); Rookery processes drain on either.
    for (const { name, child } of running)
      child.kill(name === "nats-server" ? "SIGINT" : "SIGTERM");
    // The console holds no state: one that does not stop at once is killed,
    // and that counts as stopped (a stop during its start once hung 30 s).
    const limit = group.includes(CONSOLE) ? CONSOLE_STOP_MS : DRAIN_TIMEOUT_MS;
    const timeout = new Promise((r) => setTimeout(r, limit, "timeout"));
    const outcomes = await Promise.all(
      running.map(async ({ name, child, exited }) => {
        let how = await Promise.race([exited, timeout]);
        if (how === "timeout") {
          child.kill("SIGKILL");
          if (name === CONSOLE) how = await exited;
        }
        // A console stopped while it was still starting ends by the signal.
        const ok = how === 0 || (name === CONSOLE && (how === "SIGTERM" || how === "SIGKILL"));
        say(`${name} ${group === ROOKERY ? "drained" : "stopped"} (${how === 0 ? "exit 0" : how})`);
        return ok;
      }),
    );
    if (outcomes.includes(false)) failed = true;
  }
  if (lockFile) rmSync(lockFile, { force: true });
  await releaseReaper();
  say("stopped");
  process.exit(failed ? 1 : 0);
}

function forceStop() {
  say("second interrupt: killing everything");
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
  if (lockFile) rmSync(lockFile, { force: true });
  process.exit(130);
}

// ---- data folder ----

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/**
 * This run's data folder: `.data`, or `.data/run-<n>` while other runs hold
 * the ones before (their `start.lock` names a live process). Two nats-servers
 * must never share one JetStream store.
 */
function claimDataDir() {
  for (let n = 1; n < 100; n++) {
    const dir = n === 1 ? join(root, ".data") : join(root, ".data", `run-${n}`);
    const lock = join(dir, "start.lock");
    mkdirSync(dir, { recursive: true });
    let other;
    let exists = true;
    try {
      other = JSON.parse(readFileSync(lock, "utf8"));
    } catch (error) {
      exists = error.code !== "ENOENT"; // unreadable or torn: a stale lock
    }
    if (other && other.pid !== process.pid && alive(other.pid)) {
      say(
        `${relative(root, dir)} is in use by another npm start (pid ${other.pid}, NATS ${other.nats ?? "?"}, demo ${other.demo ?? "?"}); trying the next folder`,
      );
      continue;
    }
    try {
      writeFileSync(lock, JSON.stringify({ pid: process.pid, started: new Date().toISOString() }), {
        flag: exists ? "w" : "wx",
      });
    } catch {
      continue; // another run claimed it a moment ago
    }
    return { dir, lock };
  }
  throw new Error("no free data folder under .data (100 runs?)");
}

/**
 * Fresh nkey users for this run (one per role) in <data>/auth, and the
 * server's authorization block listing them, from @rookery/cluster's
 * permission table (TypeScript, loaded through the installed tsx).
 */
async function generateAuth(dataDir) {
  const { writeNatsAuth } = await tsImport("../packages/cluster/src/nats-keys.ts", import.meta.url);
  const prefix = process.env.ROOKERY_PREFIX || "rk";
  return writeNatsAuth(join(dataDir, "auth"), { prefix });
}

async function main() {
  process.on("SIGINT", () => (stopping ? forceStop() : void stopAll(0)));
  process.on("SIGTERM", () => void stopAll(0));
  process.on("SIGHUP", () => void stopAll(0));
  let natsUrl = process.env.NATS_URL;
  /** Role credentials of the processes; none when NATS_URL names a server of the user's. */
  let credentials = {};
  let auth;
  let dataDir;
  if (!natsUrl) {
    const binary = findNatsServer();
    if (!binary) {
      say("nats-server not found; run `sudo apt-get install -y nats-server` or set NATS_URL");
      process.exit(1);
    }
    const claimed = claimDataDir();
    dataDir = claimed.dir;
    lockFile = claimed.lock;
    const port = await freePort();
    const storeDir = join(dataDir, "nats");
    mkdirSync(storeDir, { recursive: true });
    auth = await generateAuth(dataDir);
    const config = join(dataDir, "nats-server.conf");
    writeFileSync(
      config,
      "# Generated by npm start for its own run (docs/security.md).\n" +
        'max_payload: 1MB\ninclude "auth/auth.conf"\n',
    );
    const args = ["-c", config, "-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir];
    credentials = {
      NATS_GATEWAY_NKEY: auth.seeds.gateway,
      NATS_NODE_NKEY: auth.seeds.node,
    };
    // Every server line goes to its log file; warnings and errors are shown too.
    const logFile = join(dataDir, "nats-server.log");
    const log = createWriteStream(logFile);
    void start(
      "nats-server",
      binary,
      args,
      {},
      {
        onLine: (line) => {
          log.write(`${line}\n`);
          if (/\[(WRN|ERR|FTL)\]/.test(line))
            console.log(`${paint(36, "nats-server".padEnd(width))} ${line}`);
        },
      },
    );
    await waitForPort(port, 10_000);
    natsUrl = `nats://127.0.0.1:${port}`;
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, nats: natsUrl }));
    say(`data folder ${relative(root, dataDir) || "."}, NATS log ${relative(root, logFile)}`);
  }
  const common = {
    NATS_URL: natsUrl,
    ROOKERY_LOG_LEVEL: process.env.ROOKERY_LOG_LEVEL ?? "info",
    ...credentials,
  };
  const secret = process.env.ROOKERY_TOKEN_SECRET ?? randomBytes(24).toString("base64url");
  // The demo page is on PORT when it is free; every other port is the OS's pick, reported by the child.
  const ports = [await preferredOrAny(Number(process.env.PORT ?? 8080)), 0];
  const lines = await Promise.all(
    ROOKERY.map((id, i) =>
      start(
        id,
        process.execPath,
        ["--import", "tsx", "services/server/src/main.ts"],
        {
          ...common,
          ROOKERY_ID: id,
          ROOKERY_METRICS_PORT: "0",
          ROOKERY_GATEWAY_PORT: String(ports[i]),
          ROOKERY_GATEWAY_HOST: "127.0.0.1",
          ROOKERY_TOKEN_SECRET: secret,
          ROOKERY_DEMO: "1",
        },
        { ready: /"event":"ready"/, onLine: (line) => console.log(formatLog(id, line)) },
      ),
    ),
  );
  const ready = lines.map((line) => JSON.parse(line));
  const demo = `http://127.0.0.1:${ready[0].port}/`;
  if (lockFile) {
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, nats: natsUrl, demo }));
  }
  console.log(`Rookery is running (NATS ${natsUrl}; 2 processes, each gateway and node).`);
  console.log(`  demo page:  ${demo}   (open it in two tabs)`);
  for (const r of ready) {
    console.log(
      `  ${r.id}: ${r.url}   discovery http://127.0.0.1:${r.port}/discover   ` +
        `metrics http://127.0.0.1:${r.port}/metrics (gateway), http://127.0.0.1:${r.metricsPort}/metrics (node; /readyz, /healthz)`,
    );
  }
  // Printed before the console starts: they do not wait for it (its start,
  // through tsx, takes seconds on a busy machine).
  if (auth) {
    const operator = relative(root, auth.seeds.operator);
    console.log(
      `  NATS users: ${relative(root, join(dataDir, "auth"))}/{gateway,node,operator,admin}.nk`,
    );
    console.log(`  CLI:  npx rookery nodes --server ${natsUrl} --nkey ${operator}`);
    const admin = relative(root, auth.seeds.admin);
    console.log(`  admin CLI:  npx rookery drain <node> --server ${natsUrl} --nkey ${admin}`);
  } else {
    console.log(`  CLI:  npx rookery nodes --server ${natsUrl}   (with your NATS credentials)`);
  }
  // The cluster console and its room playground: admin port on the loopback,
  // the run's admin key, a token made for this run (docs/console.md).
  const consolePort = await preferredOrAny(Number(process.env.ROOKERY_CONSOLE_PORT ?? 9300));
  const consoleToken = process.env.ROOKERY_CONSOLE_TOKEN ?? randomBytes(16).toString("hex");
  const consoleArgs = [
    "packages/cli/bin/rookery.js",
    "console",
    "--server",
    natsUrl,
    ...(auth ? ["--nkey", auth.seeds.admin] : []),
    "--host",
    "127.0.0.1",
    "--port",
    String(consolePort),
  ];
  const consoleLine = await start(
    CONSOLE,
    process.execPath,
    consoleArgs,
    { ROOKERY_CONSOLE_TOKEN: consoleToken },
    {
      ready: /"event":"console"/,
      onLine: (line) => console.log(`${paint(36, CONSOLE.padEnd(width))} ${line}`),
    },
  );
  const consoleUrl = `${JSON.parse(consoleLine).url}?token=${consoleToken}`;
  if (lockFile) {
    writeFileSync(
      lockFile,
      JSON.stringify({
        pid: process.pid,
        nats: natsUrl,
        demo,
        console: consoleUrl.replace(/\?.*/, ""),
      }),
    );
  }
  console.log(`  console: ${consoleUrl}   (cluster console; room playground at /playground)`);
  console.log(
    "Press Ctrl-C to stop (the console stops, the processes drain, then the broker stops).",
  );
}

main().catch((error) => {
  say(error.message);
  void stopAll(1);
});
