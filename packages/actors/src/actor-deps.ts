import type { Logger } from "pino";
import type { Names } from "@rookery/protocol";
import type { HandlerBatch } from "./handler-batch";
import type { LocalGateway } from "./event-log";
import type { ResolvedRuntimeOptions } from "./options";
import type { RoomStorage } from "./storage";
import type { Transport } from "./transport";

/** What every room actor of a node shares (one object: per-room closures cost memory). */
export interface ActorDeps<Actor = unknown> {
  /** Snapshots, journals and presence (the storage port, storage.ts). */
  storage: RoomStorage;
  /** Room subjects: requests in, events out. */
  transport: Transport;
  /** Subject names of the namespace (`names(prefix)` from the protocol). */
  names: Names;
  nodeId: string;
  /** The node's heartbeat liveness: no write or emit once it is false. */
  alive: () => boolean;
  /** Whether a member's gateway incarnation still lives (ghosts are dropped at activation). */
  gatewayLive: (id: string, epoch: string) => boolean;
  options: ResolvedRuntimeOptions;
  /** Runs every room's handlers of one event-loop turn under one time budget. */
  batch: HandlerBatch;
  log: Logger;
  /** The gateway role of this process, when it has one (the co-located shape). */
  local?: LocalGateway | undefined;
  /** Called once when the actor stops for any reason. */
  onStopped: (actor: Actor, reason: string) => void;
  /** Called after each journal append with its latency and how many entries it carried. */
  onJournal?: ((ms: number, entries: number) => void) | undefined;
}
