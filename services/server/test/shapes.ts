import { connect } from "@nats-io/transport-node";
import { decodeLeaseRecord, ensureBuckets, leaseKey } from "@rookery/cluster/internal";
import type { ChildHandle } from "@rookery/testkit";
import { startGateway, startGatewayProcess } from "../../gateway/test/harness";
import { fixtures, startNode } from "../../node/test/nodes";
import { startServer, startServerProcess } from "./servers";

/**
 * The two deployment shapes failure tests run in: roles in separate processes
 * (split) or both roles in one process (co-located, the default).
 */
export type Shape = "split" | "co-located";
export const shapes: Shape[] = ["split", "co-located"];

/** What a test calls "a process with the node role" in each shape, for titles. */
export const nodeWord = (shape: Shape) => (shape === "split" ? "a node" : "a co-located process");

const rooms = { ROOKERY_ROOM_MODULES: fixtures };

/**
 * A process with the node role, as a child process: a node alone (split) or
 * a co-located process (its gateway role serves nobody unless a test uses it).
 */
export async function startNodeRole(
  shape: Shape,
  url: string,
  prefix: string,
  id: string,
  env: Record<string, string> = {},
): Promise<ChildHandle> {
  if (shape === "split") return startNode(url, prefix, id, env);
  return (await startServerProcess(url, prefix, id, { ...rooms, ...env })).child;
}

/**
 * A process with the gateway role, as a child process: a gateway alone
 * (split) or a co-located process that also hosts rooms.
 */
export async function startGatewayRoleProcess(
  shape: Shape,
  url: string,
  prefix: string,
  id: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildHandle; url: string; port: number }> {
  if (shape === "split") return startGatewayProcess(url, prefix, id, env);
  return startServerProcess(url, prefix, id, { ...rooms, ...env });
}

export interface GatewayRole {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A process with the gateway role, in this test process: a gateway (split)
 * or a co-located server. `env` is in the variables of docs/operations.md;
 * split, only `ROOKERY_DRAIN_MS` is translated (any other throws).
 */
export async function startGatewayRole(
  shape: Shape,
  url: string,
  prefix: string,
  id: string,
  env: Record<string, string> = {},
): Promise<GatewayRole> {
  if (shape === "split") {
    const { ROOKERY_DRAIN_MS: drain, ...rest } = env;
    if (Object.keys(rest).length > 0)
      throw new Error(`not translated: ${Object.keys(rest).join()}`);
    const gateway = await startGateway(url, prefix, { id, ...(drain ? { drainMs: +drain } : {}) });
    return { url: gateway.url, port: gateway.port, stop: () => gateway.stop() };
  }
  const server = await startServer(url, prefix, id, { ...rooms, ...env });
  return { url: server.gateway!.url, port: server.gateway!.port, stop: () => server.stop() };
}

/** The owner named by a room's lease (undefined if it has none), read on a connection of its own. */
export async function roomOwner(
  url: string,
  prefix: string,
  type: string,
  id: string,
): Promise<string | undefined> {
  const nc = await connect({ servers: url });
  try {
    const entry = await (await ensureBuckets(nc, { prefix })).leases.get(leaseKey(type, id));
    return entry ? (decodeLeaseRecord("lease", entry.value).owner ?? undefined) : undefined;
  } finally {
    await nc.close();
  }
}
