import type { Logger } from "pino";
import type { ActorHost, RoomDefinition } from "@rookery/actors";
import { Gateway } from "@rookery/gateway";
import type { LocalRooms } from "@rookery/gateway/internal";
import { NodeService } from "@rookery/node";
import type { ServerConfig } from "./config";

type AnyDefinition = RoomDefinition<never, never>;

/**
 * One Rookery process: a gateway, an actor node, or both (the co-located
 * shape, one process per core). With both roles, a room active here is
 * served in-process: a local player's input goes straight into the actor's
 * mailbox and its events straight to the local sockets; NATS carries only
 * what crosses processes (docs/gateway.md "Two shapes").
 */
export class RookeryServer {
  readonly gateway: Gateway | undefined;
  readonly node: NodeService | undefined;
  readonly #log: Logger;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly config: ServerConfig,
    rooms: AnyDefinition[],
    log: Logger,
  ) {
    const { roles } = config;
    this.gateway = roles.gateway ? new Gateway({ ...config.gateway, logger: log }) : undefined;
    const gateway = this.gateway;
    const local = gateway && {
      id: gateway.id,
      deliver: gateway.deliverLocal.bind(gateway),
    };
    const nodeLog = log.child({ node: config.node.id, component: "node" });
    this.node = roles.node ? new NodeService(config.node, rooms, nodeLog, local) : undefined;
    // The node role's /readyz stands for the whole process.
    if (this.node && gateway) this.node.addReadinessCheck(() => gateway.ready);
    this.#log = log.child({ node: config.node.id });
  }

  get id(): string {
    return this.config.node.id;
  }

  async start(): Promise<void> {
    if (this.node) await this.node.start();
    if (this.gateway && this.node) this.gateway.attachRooms(localRooms(this.node.host));
    if (this.gateway) await this.gateway.start();
  }

  /**
   * Drains the gateway role first (players are told to move; their leaves
   * still reach the rooms here), then the node role (rooms are handed over).
   * Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    if (this.gateway) {
      await this.gateway.stop();
      this.#log.info({ component: "gateway" }, "gateway drained");
    }
    await this.node?.stop();
  }
}

/** The node role's rooms as the gateway role sees them. */
function localRooms(host: ActorHost): LocalRooms {
  return {
    serving: (room) => host.serving(room.type, room.id),
    place: async (room) =>
      host.hosts(room.type) && (await host.activate(room.type, room.id)) !== undefined,
  };
}
