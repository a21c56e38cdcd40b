/**
 * The Rookery actor runtime: room definitions and the machinery that hosts
 * them (mailboxes, durable journals, snapshots, timers).
 *
 * ```ts
 * import { defineRoom } from "@rookery/actors";
 *
 * export const counter = defineRoom<{ n: number }, { add: { by: number } }>({
 *   type: "counter",
 *   initialState: () => ({ n: 0 }),
 *   onMessage: { add: (ctx, body) => { ctx.state.n += body.by; ctx.emit("count", ctx.state.n); } },
 * });
 * ```
 */
export { defineRoom, Durability, longestPresent } from "./room";
export type { LeaderPolicy, Member, RoomContext, RoomDefinition } from "./room";
export {
  arrayOf,
  bool,
  int,
  isEmptyBody,
  isMap,
  num,
  oneOf,
  optional,
  shape,
  text,
} from "./guards";
export type { Guard } from "./guards";
export { ActorHost } from "./actor-host";
export type { HostEvents } from "./actor-host";
export { defaultRuntimeOptions, resolveRuntimeOptions } from "./options";
export type { ResolvedRuntimeOptions, RuntimeOptions } from "./options";
export { JournalReplayError, RoomActor } from "./room-actor";
export type { LocalGateway } from "./room-actor";
export { JournalGapError } from "./journal-reader";
export { InputRejectedError, NotJoinedError, RoomCore } from "./room-core";
export { DEFAULT_DEDUPE_WINDOW } from "./room-core";
export type { Applied, Checkpoint, CoreEvent } from "./room-core";
export type { DedupeWindow, Known, Outcome } from "./dedupe";
export { HandlerBatch } from "./handler-batch";
export type { BatchJob } from "./handler-batch";
export {
  HandlerTimeoutError,
  isInstrumented,
  runCooperative,
  runHandler,
  runWithBudget,
} from "./sandbox";
export { instrumentRoomModules, instrumentSource } from "./instrument";
export type { Instrumented } from "./instrument";
export { RoomRouter } from "./room-router";
export { NoRespondersError, RequestTimeoutError } from "./request-mux";
export type { RoomRouterOptions } from "./room-router";
export type { JournalBatch, JournalEntry, Snapshot, StoredMember } from "./journal";
