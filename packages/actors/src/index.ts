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
export { JournalReplayError } from "./room-actor";
export type { LocalGateway } from "./room-actor";
export { JournalGapError } from "./journal-reader";
export { InputRejectedError, NotJoinedError } from "./room-core";
export { HandlerTimeoutError } from "./sandbox";
// Everything else (the room actor and core, storage ports, sandbox, journal
// codec) is in `@rookery/actors/internal`.
