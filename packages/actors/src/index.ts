/**
 * The Rookery actor runtime: room definitions and the machinery that hosts
 * them (mailboxes, durable journals, snapshots, timers).
 *
 * ```ts
 * import { defineRoom, int, message, shape } from "@rookery/actors";
 *
 * export const counter = defineRoom({
 *   type: "counter",
 *   initialState: (): { n: number } => ({ n: 0 }),
 *   onMessage: {
 *     add: message(shape({ by: int() }), (ctx, { by }) => ctx.emit("count", (ctx.state.n += by))),
 *   },
 * });
 * ```
 */
export {
  defineRoom,
  Durability,
  isRoom,
  longestPresent,
  message,
  messageBrand,
  roomBrand,
} from "./room";
export type {
  BodiesOf,
  EventMap,
  Handler,
  LeaderPolicy,
  Member,
  Message,
  MessageEntry,
  Plain,
  ResultsOf,
  Room,
  RoomBase,
  RoomContext,
  RoomDefinition,
} from "./room";
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
export type {
  BodyOf,
  StandardSchemaV1,
  StandardSchemaV1Issue,
  StandardSchemaV1Result,
  Validator,
} from "./validator";
export { ActorHost } from "./actor-host";
export type { HostEvents } from "./actor-host";
export type { HostCluster } from "./host-cluster";
export { defaultRuntimeOptions, resolveRuntimeOptions } from "./options";
export type { ResolvedRuntimeOptions, RuntimeOptions } from "./options";
export { JournalReplayError } from "./room-actor";
export type { LocalGateway } from "./room-actor";
export { JournalGapError } from "./journal-reader";
export { InputRejectedError, NotJoinedError } from "./room-core";
export { HandlerTimeoutError } from "./sandbox";
// Everything else (the room actor and core, storage ports, sandbox, journal
// codec) is in `@rookery/actors/internal`.
