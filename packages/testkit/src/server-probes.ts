/** Observing a running nats-server from outside: ports file, client listener, monitoring. */
import { readdir, readFile } from "node:fs/promises";
import { connect as connectTcp } from "node:net";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export interface ServerPorts {
  client: number;
  cluster: number | undefined;
  monitorUrl: string | undefined;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function firstString(value: unknown): string | undefined {
  return Array.isArray(value) && typeof value[0] === "string" ? value[0] : undefined;
}

/**
 * Ports reported by the process `pid` in `<exe>_<pid>.ports` under `dir`, or undefined while the
 * file is absent or half-written. Keyed on pid: a SIGKILLed server leaves its old file behind.
 */
export async function readPortsFile(dir: string, pid: number): Promise<ServerPorts | undefined> {
  const file = (await readdir(dir)).find((f) => f.endsWith(`_${pid}.ports`));
  if (file === undefined) return undefined;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(await readFile(join(dir, file), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const client = firstString(parsed["nats"]);
  if (client === undefined) return undefined;
  const cluster = firstString(parsed["cluster"]);
  return {
    client: portOf(client),
    cluster: cluster === undefined ? undefined : portOf(cluster),
    monitorUrl: firstString(parsed["monitoring"]),
  };
}

/** True once a TCP client on `port` receives the server's INFO greeting. */
export function greets(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("data", (chunk) => done(chunk.toString("latin1").startsWith("INFO")));
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

async function monitor(monitorUrl: string, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${monitorUrl}${path}`, { signal: AbortSignal.timeout(1000) });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Name of the JetStream meta leader as this server sees it, if any. */
export async function metaLeader(monitorUrl: string): Promise<string | undefined> {
  const jsz = await monitor(monitorUrl, "/jsz");
  const meta = jsz["meta_cluster"] as { leader?: string } | undefined;
  return meta?.leader || undefined;
}

export async function routeCount(monitorUrl: string): Promise<number> {
  const routez = await monitor(monitorUrl, "/routez");
  return typeof routez["num_routes"] === "number" ? routez["num_routes"] : 0;
}

/** True when a JetStream API request sent through `urls` gets an answer. */
export async function jetStreamAnswers(urls: string[]): Promise<boolean> {
  const nc = await connect({ servers: urls, reconnect: false, timeout: 1000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 1000 });
    await jsm.getAccountInfo();
    return true;
  } finally {
    await nc.close();
  }
}
