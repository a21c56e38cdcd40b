import type { Value } from "@rookery/protocol";

/** A member as room code sees it. */
export interface Member {
  /** Stable member id `<user>:<session>`. */
  id: string;
  user: string;
  name: string;
  /** Room-clock time (ms) the member joined. */
  joinedAt: number;
}

/**
 * Everything a handler may do besides changing `ctx.state`. Handlers must be
 * deterministic: durable rooms are recovered by replaying their journal
 * through the same handlers, so read time from `ctx.now()` (the journaled
 * time of the input) and randomness from `ctx.random()`, never `Date.now()`
 * or `Math.random()`.
 */
export interface RoomContext<S> {
  /** The state to read and change in place; discarded if the handler throws. */
  state: S;
  readonly room: { type: string; id: string };
  /** Current members, oldest first. */
  readonly members: readonly Member[];
  /** The current leader's member id, or null when the room is empty. */
  readonly leader: string | null;
  /** Time of the input being handled (ms since epoch), identical on replay. */
  now(): number;
  /** Deterministic pseudo-random number in [0, 1), identical on replay. */
  random(): number;
  /** Sends an event to every member. */
  emit(type: string, body?: Value): void;
  /** Sends an event to some members only. */
  emitTo(members: string | readonly string[], type: string, body?: Value): void;
  /** (Re)arms a named one-shot timer; `onTimer` runs when it fires, even after failover. */
  setTimer(name: string, delayMs: number): void;
  clearTimer(name: string): void;
  /** Refuses the input: the sender gets INPUT_REJECTED with this message; state is unchanged. */
  reject(message: string): never;
}

/** Picks the leader among members (oldest first); null for an empty room. */
export type LeaderPolicy = (members: readonly Member[], current: string | null) => string | null;

/** Default policy: the longest-present member leads. */
export const longestPresent: LeaderPolicy = (members) => members[0]?.id ?? null;

export const Durability = {
  /** Inputs are acknowledged only once journaled under the room's epoch. */
  Durable: "durable",
  /** Snapshots every `snapshotMs`; a crash may lose recent inputs, never corrupt state. */
  Ephemeral: "ephemeral",
} as const;
export type Durability = (typeof Durability)[keyof typeof Durability];

/**
 * A room type: a plain module. `M` maps the room's own message types to their
 * bodies, so `onMessage` is type-safe for them.
 *
 * ```ts
 * export const counter = defineRoom<{ n: number }, { add: { by: number } }>({
 *   type: "counter",
 *   initialState: () => ({ n: 0 }),
 *   onMessage: {
 *     add(ctx, body) {
 *       if (body.by > 10) ctx.reject("too much");
 *       ctx.state.n += body.by;
 *       ctx.emit("count", ctx.state.n);
 *       return ctx.state.n;
 *     },
 *   },
 * });
 * ```
 */
export interface RoomDefinition<S, M extends Record<string, Value> = Record<string, Value>> {
  /** Room type name: `^[A-Za-z0-9_-]{1,64}$`. */
  type: string;
  /** @default "durable" */
  durability?: Durability;
  /** Calls `onTick` this often while the room is active. @default none */
  tickMs?: number;
  /** Leader election policy. @default longestPresent */
  leaderPolicy?: LeaderPolicy;
  /** The state of a brand-new room. */
  initialState(room: { type: string; id: string }): S;
  onJoin?(ctx: RoomContext<S>, member: Member): void;
  onLeave?(ctx: RoomContext<S>, member: Member): void;
  /** One handler per message type; its return value is the ack's `result`. */
  onMessage: { [T in keyof M]: (ctx: RoomContext<S>, body: M[T], sender: Member) => Value | void };
  onTick?(ctx: RoomContext<S>): void;
  onTimer?(ctx: RoomContext<S>, name: string): void;
  onLeaderChange?(ctx: RoomContext<S>, leader: string | null, previous: string | null): void;
  /**
   * Validates a message body before the handler sees it (bad input changes
   * nothing); return false or throw to reject with INPUT_REJECTED.
   * @default accepts every body
   */
  validate?: { [T in keyof M]?: (body: Value) => body is M[T] };
  /**
   * What a member may see of the state, for the snapshot sent when it joins
   * (or resumes too far behind): hide other players' cards, secrets, ids.
   * Must not change `state`; runs under the handler time budget. Events are
   * not filtered by it: address private events with `emitTo`.
   * @default the whole state
   */
  visibleState?(state: S, member: Member): Value;
}

/** Whether inputs of this room type are journaled before they are acknowledged (the default). */
export function isDurable(definition: { durability?: Durability }): boolean {
  return (definition.durability ?? Durability.Durable) === Durability.Durable;
}

/** Identity helper that keeps the state and message types inferred. */
export function defineRoom<S, M extends Record<string, Value> = Record<string, Value>>(
  definition: RoomDefinition<S, M>,
): RoomDefinition<S, M> {
  return definition;
}
