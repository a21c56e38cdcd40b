/**
 * The system under test: a 3-server NATS cluster, actor nodes and gateways
 * as real child processes, each of which the nemesis can kill, freeze and
 * bring back under the same id (and, for gateways, the same port).
 */
import {
  reservePorts,
  startNatsCluster,
  type ChildHandle,
  type NatsCluster,
} from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";
import { startGatewayProcess } from "../../services/gateway/test/harness";
import { startServerProcess } from "../../services/server/test/servers";

const ROOM_MODULE = new URL("./ledger-room.ts", import.meta.url).pathname;
/** Clients notice a frozen gateway after two silent heartbeats (5 s), within a 6 s pause. */
const CLIENT_HEARTBEAT_MS = "2500";

/** `server`: gateway and node in one process (the co-located shape). */
export type Role = "node" | "gateway" | "server";

/** Split: nodes apart from gateways; co-located: every process plays both roles. */
export type Shape = "split" | "co-located";

export interface Proc {
  role: Role;
  id: string;
  child: ChildHandle;
  /** Set while the nemesis is killing or has killed it, so its exit is not reported. */
  expectedDown: boolean;
  /** False once the process exited. */
  alive: boolean;
  /** Gateways: the fixed port, kept across restarts so discovery URLs stay valid. */
  port?: number;
  /** Gateways: the WebSocket URL. */
  url?: string;
}

export interface SystemOptions {
  prefix: string;
  /** With `co-located`, `nodes` processes are started, each a gateway too. */
  shape: Shape;
  nodes: number;
  gateways: number;
}

export class System {
  readonly procs = new Map<string, Proc>();
  readonly unexpectedExits: string[] = [];
  /** stdout of every incarnation of every process (warn level and up), for diagnosis. */
  readonly logs: { id: string; lines: string[] }[] = [];
  #stopping = false;

  private constructor(
    readonly nats: NatsCluster,
    readonly prefix: string,
  ) {}

  static async start(options: SystemOptions): Promise<System> {
    const nats = await startNatsCluster(3);
    const system = new System(nats, options.prefix);
    try {
      const nodeIds = Array.from({ length: options.nodes }, (_, i) => `node-${i}`);
      if (options.shape === "co-located") {
        const ports = await reservePorts(options.nodes);
        await Promise.all(nodeIds.map((id, i) => system.startProc("server", id, ports[i])));
        return system;
      }
      const gatewayIds = Array.from({ length: options.gateways }, (_, i) => `gw-${i}`);
      await Promise.all(nodeIds.map((id) => system.startProc("node", id)));
      const ports = await reservePorts(options.gateways);
      await Promise.all(gatewayIds.map((id, i) => system.startProc("gateway", id, ports[i])));
      return system;
    } catch (error) {
      await system.stop();
      throw error;
    }
  }

  /** The processes playing `role` (a co-located process plays both). */
  list(role: Role): Proc[] {
    return [...this.procs.values()].filter((p) => p.role === role || p.role === "server");
  }

  /** Base URLs every client asks for discovery. */
  discoveryUrls(): string[] {
    return this.list("gateway").map((g) => `http://127.0.0.1:${g.port}`);
  }

  gatewayUrl(id: string): string {
    return this.procs.get(id)!.url!;
  }

  /** Starts (or restarts) one process under its id. */
  async startProc(role: Role, id: string, port?: number): Promise<Proc> {
    const env = this.#env(id);
    let child: ChildHandle;
    let url: string | undefined;
    if (role === "node") {
      child = await startNode(env.NATS_URL!, this.prefix, id, env);
    } else {
      port ??= this.procs.get(id)?.port;
      if (port === undefined) throw new Error(`gateway ${id} has no port`);
      const extra = { ...env, ...gatewayEnv(), ROOKERY_GATEWAY_PORT: String(port) };
      const start = role === "server" ? startServerProcess : startGatewayProcess;
      ({ child, url } = await start(env.NATS_URL!, this.prefix, id, extra));
    }
    const proc: Proc = { role, id, child, expectedDown: false, alive: true, port, url };
    this.procs.set(id, proc);
    this.logs.push({ id, lines: child.lines });
    void child.exited.then((code) => {
      proc.alive = false;
      this.#exited(proc, child, code);
    });
    return proc;
  }

  async kill(proc: Proc): Promise<void> {
    proc.expectedDown = true;
    await proc.child.kill("SIGKILL");
  }

  /** Brings a killed process back; a paused one is continued. */
  async heal(proc: Proc): Promise<void> {
    if (proc.alive) {
      proc.child.resume();
      return;
    }
    await this.startProc(proc.role, proc.id, proc.port);
  }

  /** Restarts any process that is down and continues every NATS server and process. */
  async healAll(): Promise<void> {
    for (const proc of this.procs.values()) await this.heal(proc);
    await Promise.all(
      this.nats.servers.map(async (server) => {
        server.resume();
        if (server.pid === undefined) await server.restart();
      }),
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.procs.values()].map((p) => p.child.kill("SIGKILL")));
    await this.nats[Symbol.asyncDispose]();
  }

  #env(id: string): Record<string, string> {
    // Each process prefers a different server first, so a broker kill hits only some of them.
    const urls = this.nats.urls;
    const shift = [...id].reduce((n, c) => n + c.charCodeAt(0), 0) % urls.length;
    const rotated = [...urls.slice(shift), ...urls.slice(0, shift)];
    return {
      NATS_URL: rotated.join(","),
      ROOKERY_REPLICAS: "3",
      ROOKERY_HEARTBEAT_TAGS: this.nats.tags.join(","),
      ROOKERY_ROOM_MODULES: ROOM_MODULE,
      ROOKERY_LOG_LEVEL: "warn",
    };
  }

  #exited(proc: Proc, child: ChildHandle, code: number | null): void {
    if (this.#stopping || proc.expectedDown || this.procs.get(proc.id)?.child !== child) return;
    const stderr = child.lines.slice(-3).join(" | ");
    this.unexpectedExits.push(`${proc.role} ${proc.id} (code ${code}) ${stderr}`);
  }
}

function gatewayEnv(): Record<string, string> {
  return {
    // Well above the load's pace, bursts of re-sent inputs after a reconnect included.
    ROOKERY_RATE_PER_SEC: "1000",
    ROOKERY_BURST: "1000",
    ROOKERY_CLIENT_HEARTBEAT_MS: CLIENT_HEARTBEAT_MS,
    ROOKERY_IDLE_TIMEOUT_MS: String(3 * Number(CLIENT_HEARTBEAT_MS)),
    ROOKERY_RECONNECT_GRACE_MS: "5000",
  };
}
