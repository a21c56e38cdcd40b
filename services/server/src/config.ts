import { gatewayOptionsFromEnv, type GatewayOptions } from "@rookery/gateway";
import { ConfigError, nodeConfigFromEnv, type NodeConfig } from "@rookery/node";

/** Which roles this process plays. */
export interface Roles {
  gateway: boolean;
  node: boolean;
}

/** Configuration of one Rookery process, parsed and validated once from the environment. */
export interface ServerConfig {
  roles: Roles;
  /** The node role's settings; its `id` is the process id, shared by both roles. */
  node: NodeConfig;
  gateway: GatewayOptions;
}

/**
 * `ROOKERY_ROLES` is a comma list of `gateway` and `node` (default both: the
 * co-located shape); the other variables are the node's and the gateway's
 * (docs/operations.md).
 */
export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const node = nodeConfigFromEnv(env);
  return {
    roles: parseRoles(env.ROOKERY_ROLES),
    node,
    gateway: { ...gatewayOptionsFromEnv(env), id: node.id },
  };
}

export function parseRoles(text: string | undefined): Roles {
  const names = (text ?? "gateway,node")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = names.filter((r) => r !== "gateway" && r !== "node");
  if (unknown.length > 0 || names.length === 0) {
    throw new ConfigError(
      `ROOKERY_ROLES must list gateway and/or node, got ${JSON.stringify(text)}`,
    );
  }
  return { gateway: names.includes("gateway"), node: names.includes("node") };
}
