/** A real nats-server process in its own temp dir, for tests and benchmarks. */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServerStartError } from "./errors";
import { findNatsServer } from "./find-server";
import { eachLine, formatTail, LineTail } from "./output-lines";
import { exitOf, trackChild, trackDir, untrackDir, waitUntilStopped } from "./process-registry";
import {
  ANY_PORT,
  CONFIG_FILE,
  LOG_FILE,
  type NatsServerOptions,
  renderConfig,
  resolveNatsServerOptions,
  serverArgs,
  type ServerSpec,
} from "./server-config";
import {
  greets,
  jetStreamAnswers,
  metaLeader,
  readPortsFile,
  type ServerPorts,
} from "./server-probes";
import { until } from "./until";

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const JETSTREAM_READY_TIMEOUT_MS = 30_000;

/** One running nats-server process. */
export interface Launched {
  child: ChildProcess;
  exited: Promise<number | null>;
  ports: ServerPorts;
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

async function removeStalePortsFiles(dir: string): Promise<void> {
  const stale = (await readdir(dir)).filter((f) => f.endsWith(".ports"));
  await Promise.all(stale.map((f) => unlink(join(dir, f))));
}

function captureOutput(child: ChildProcess, spec: ServerSpec): LineTail {
  const tail = new LineTail();
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    eachLine(stream, (line) => {
      tail.push(line);
      if (spec.options.debug) process.stderr.write(`[${spec.name}] ${line}\n`);
    });
  }
  return tail;
}

function spawnFailure(child: ChildProcess): Promise<Error> {
  return new Promise((resolve) => child.once("error", resolve));
}

/** Ports of the started process, once its client listener greets; throws if it exits first. */
async function waitListening(
  spec: ServerSpec,
  child: ChildProcess,
  exited: Promise<number | null>,
): Promise<ServerPorts> {
  const pid = child.pid;
  if (pid === undefined) throw await spawnFailure(child);
  let exit: { code: number | null } | undefined;
  void exited.then((code) => (exit = { code }));
  type Seen = { exit: { code: number | null } } | { ports: ServerPorts };
  const seen = await until(
    async (): Promise<Seen | undefined> => {
      if (exit) return { exit };
      const ports = await readPortsFile(spec.dir, pid);
      if (ports === undefined || !(await greets(ports.client))) return undefined;
      return { ports };
    },
    START_TIMEOUT_MS,
    `nats-server ${spec.name} accepts connections`,
  );
  if ("ports" in seen) return seen.ports;
  const how = child.signalCode ?? `code ${String(seen.exit.code)}`;
  throw new Error(`nats-server exited during startup (${how})`);
}

async function logTail(spec: ServerSpec): Promise<string> {
  if (spec.options.debug) return "";
  const text = await readFile(join(spec.dir, LOG_FILE), "utf8").catch(() => "");
  return formatTail(LOG_FILE, text);
}

/** Starts the process described by `spec` and waits until it accepts client connections. */
async function launch(spec: ServerSpec): Promise<Launched> {
  await removeStalePortsFiles(spec.dir);
  await writeFile(join(spec.dir, CONFIG_FILE), renderConfig(spec));
  const child = spawn(spec.exe, serverArgs(spec), { stdio: ["ignore", "pipe", "pipe"] });
  trackChild(child);
  const exited = exitOf(child);
  const output = captureOutput(child, spec);
  try {
    return { child, exited, ports: await waitListening(spec, child, exited) };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    const reason = error instanceof Error ? error.message : String(error);
    throw new NatsServerStartError(
      `nats-server ${spec.name} (${spec.dir}) did not start: ${reason}` +
        `${output.format("output")}${await logTail(spec)}`,
      { cause: error },
    );
  }
}

/**
 * A nats-server child process listening on 127.0.0.1 with its own temp dir (config, log and,
 * with JetStream, the store). Create one with {@link startNatsServer} or `startNatsCluster`.
 */
export class NatsServer {
  /** Client URL, `nats://127.0.0.1:<port>`; unchanged across {@link restart}. */
  readonly url: string;
  readonly port: number;
  /** The server's temp dir: JetStream store, config file and `server.log`. */
  readonly storeDir: string;
  /** The server_name, unique per server. */
  readonly name: string;
  /** Route listen port, for members of a cluster. */
  readonly clusterPort?: number;
  readonly #spec: ServerSpec;
  #proc: Launched;
  #paused = false;

  /** Internal: use {@link startNatsServer} or `startNatsCluster`. */
  constructor(spec: ServerSpec, launched: Launched) {
    // Restarts reuse the first run's client port so connected clients find the server again.
    this.#spec = { ...spec, clientPort: launched.ports.client };
    this.#proc = launched;
    this.port = launched.ports.client;
    this.url = `nats://127.0.0.1:${this.port}`;
    this.storeDir = spec.dir;
    this.name = spec.name;
    if (spec.cluster) this.clusterPort = spec.cluster.port;
  }

  /** Process id while the process runs, else undefined. */
  get pid(): number | undefined {
    return isRunning(this.#proc.child) ? this.#proc.child.pid : undefined;
  }

  /** HTTP monitoring base URL (`/varz`, `/jsz`, `/routez`) while running; it changes on restart. */
  get monitorUrl(): string | undefined {
    return isRunning(this.#proc.child) ? this.#proc.ports.monitorUrl : undefined;
  }

  /** Graceful shutdown (SIGTERM, SIGKILL after 10 s); waits for the exit. Idempotent. */
  async stop(): Promise<void> {
    const { child, exited } = this.#proc;
    if (!isRunning(child)) return;
    child.kill("SIGTERM");
    // A SIGSTOPped process acts on SIGTERM only once continued.
    if (this.#paused) this.resume();
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Crash: SIGKILL, waits for the exit. */
  async kill(): Promise<void> {
    const { child, exited } = this.#proc;
    if (isRunning(child)) child.kill("SIGKILL");
    await exited;
    this.#paused = false;
  }

  /** Freezes the process (SIGSTOP): sockets stay open but nothing is answered. */
  pause(): void {
    const child = this.#proc.child;
    if (!isRunning(child) || !child.kill("SIGSTOP")) return;
    this.#paused = true;
    if (child.pid !== undefined) waitUntilStopped(child.pid);
  }

  /** Continues a paused process (SIGCONT). */
  resume(): void {
    if (isRunning(this.#proc.child)) this.#proc.child.kill("SIGCONT");
    this.#paused = false;
  }

  /**
   * Stops the server if it runs, then starts it again with the same store dir, client port and
   * cluster port/routes, and waits until it accepts connections. A JetStream cluster member
   * also waits for a meta leader and a JetStream API answer through it, so the members of a
   * fully stopped cluster must be restarted concurrently.
   */
  async restart(): Promise<void> {
    await this.stop();
    this.#paused = false;
    this.#proc = await launch(this.#spec);
    if (this.#spec.cluster && this.#spec.options.jetstream) await this.#waitJetStream();
  }

  async #waitJetStream(): Promise<void> {
    const monitorUrl = this.#proc.ports.monitorUrl;
    try {
      await until(
        async () =>
          monitorUrl !== undefined &&
          (await metaLeader(monitorUrl)) !== undefined &&
          (await jetStreamAnswers([this.url])),
        JETSTREAM_READY_TIMEOUT_MS,
        `JetStream ready on restarted ${this.name}`,
      );
    } catch (error) {
      throw new NatsServerStartError(
        `nats-server ${this.name} restarted but JetStream is not ready: ${String(error)}`,
        { cause: error },
      );
    }
  }

  /** Stops the server and removes its temp dir. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    await removeServerDir(this.storeDir);
  }
}

export async function makeServerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rookery-nats-"));
  trackDir(dir);
  return dir;
}

export async function removeServerDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  untrackDir(dir);
}

/** Launches `spec` as a new {@link NatsServer}; its dir is removed if the start fails. */
export async function launchNatsServer(spec: ServerSpec): Promise<NatsServer> {
  try {
    return new NatsServer(spec, await launch(spec));
  } catch (error) {
    await removeServerDir(spec.dir);
    throw error;
  }
}

/**
 * Starts a single nats-server on a free 127.0.0.1 port (JetStream on by default) and waits until
 * it accepts connections. Dispose it (`await using`) or call `stop()`; it is SIGKILLed and its
 * dir removed when this process exits anyway.
 */
export async function startNatsServer(opts?: NatsServerOptions): Promise<NatsServer> {
  const options = resolveNatsServerOptions(opts);
  const exe = findNatsServer();
  const dir = await makeServerDir();
  const name = `testkit_${randomBytes(3).toString("hex")}`;
  return launchNatsServer({ exe, dir, name, options, clientPort: ANY_PORT });
}
