/**
 * @rookery/actors/internal: the runtime's building blocks, for Rookery's own
 * services, benchmarks and tests: the room actor and its core, the storage
 * and transport ports with the in-memory storage, the handler batch and
 * sandbox, the journal codec, the in-memory cluster and transport a host
 * runs on in unit tests. Not a stable API; room authors and services
 * embedding a node use `@rookery/actors`.
 *
 * @example
 * ```ts
 * import { MemoryRoomStorage, readJournalTail } from "@rookery/actors/internal";
 *
 * const storage = new MemoryRoomStorage();
 * const head = await storage.journalHead({ type: "chess", id: "g42" });
 * const tail = await readJournalTail(storage, { type: "chess", id: "g42" }, head, 0);
 * ```
 */
export * from "./index";
export { RoomActor } from "./room-actor";
export type { ActorDeps, Prefetched } from "./room-actor";
export { Phase } from "./room-lifecycle";
export type { Lifecycle } from "./room-lifecycle";
export { MemoryRoomStorage, StorageFaultError } from "./memory-storage";
export type { AppendFault } from "./memory-storage";
export { MemoryTransport } from "./memory-transport";
export { MemoryCluster, MemoryMember } from "./memory-cluster";
export type { MemoryProcessOptions } from "./memory-cluster";
export type {
  AppendRetry,
  FencedAppender,
  FencedWriter,
  JournalMessage,
  RoomRef,
  RoomStorage,
  StoredSnapshot,
} from "./storage";
export type { Inbound, Served, Transport } from "./transport";
export { readJournalTail } from "./journal-reader";
export type { JournalTail } from "./journal-reader";
export { DEFAULT_DEDUPE_WINDOW, RoomCore } from "./room-core";
export type { Applied, Checkpoint, CoreEvent } from "./room-core";
export type { DedupeWindow, Known, Outcome } from "./dedupe";
export { HandlerBatch } from "./handler-batch";
export type { BatchJob } from "./handler-batch";
export { isInstrumented, runCooperative, runHandler, runWithBudget } from "./sandbox";
export { instrumentRoomModules, instrumentSource } from "./instrument";
export type { Instrumented } from "./instrument";
export { decodeBatch, decodeSnapshot, encodeBatch, encodeSnapshot } from "./journal";
export type { JournalBatch, JournalEntry, Snapshot, StoredMember } from "./journal";
