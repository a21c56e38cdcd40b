import type { Value } from "@rookery/protocol";
import type { BodyOf, Validator } from "./validator";

/** A member as room code sees it (a plain `type`, so it is a {@link Value}: emit it as is). */
export type Member = {
  /** Stable member id `<user>:<session>`. */
  id: string;
  user: string;
  name: string;
  /** Room-clock time (ms) the member joined. */
  joinedAt: number;
};

/**
 * Plain data, what room state may hold: it is cloned, journaled and
 * snapshotted as MessagePack. A `Map`, `Date`, function or class instance
 * does not fit (declare state with `type`, not `interface`: an interface has
 * no index signature, so it does not fit either).
 */
export type Plain =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly Plain[]
  | { readonly [key: string]: Plain | undefined };

/** Event type -> body: what a room emits. */
export type EventMap = { [type: string]: Value };

/** The body argument of an event: optional where nil is a valid body. */
type EventBody<B> = null extends B ? [body?: B] : [body: B];

/**
 * Everything a handler may do besides changing `ctx.state`. Handlers must be
 * deterministic: durable rooms are recovered by replaying their journal
 * through the same handlers, so read time from `ctx.now()` (the journaled
 * time of the input) and randomness from `ctx.random()`, never `Date.now()`
 * or `Math.random()`. With an event map `E`, `emit` and `emitTo` accept only
 * its event types, each with its body.
 */
export type RoomContext<S, E extends EventMap = EventMap> = {
  /** Type-only (never set): the event map, so the context's type carries it. */
  readonly "~events"?: E;
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
  emit<T extends keyof E & string>(type: T, ...body: EventBody<E[T]>): void;
  /** Sends an event to some members only. */
  emitTo<T extends keyof E & string>(
    members: string | readonly string[],
    type: T,
    ...body: EventBody<E[T]>
  ): void;
  /** (Re)arms a named one-shot timer; `onTimer` runs when it fires, even after failover. */
  setTimer(name: string, delayMs: number): void;
  clearTimer(name: string): void;
  /** Refuses the input: the sender gets INPUT_REJECTED with this message; state is unchanged. */
  reject(message: string): never;
};

/** Handles one message; its return value is the ack's `result`. */
export type Handler<S, E extends EventMap, B, R extends Value | void = Value | void> = (
  ctx: RoomContext<S, E>,
  body: B,
  sender: Member,
) => R;

/**
 * A message type: the validator of its body beside its handler (made by
 * {@link message}). A body that fails `body` is refused with INPUT_REJECTED
 * `invalid <type> body` before `handle` runs.
 */
export type Message<S, E extends EventMap, B, R extends Value | void = Value | void> = {
  /** Type-only (never set): the room's event map, so a handler typed for other events does not fit. */
  readonly "~events"?: E;
  body?: Validator<B>;
  handle: Handler<S, E, B, R>;
};

/**
 * Declares a message type: `body` checks what a client sent (a guard from
 * guards.ts, your own, or a Standard Schema such as a zod, valibot or
 * arktype schema) and `handle` gets the body typed as it admits. Give the
 * room's `initialState` a return type, and annotate `ctx` with the room's
 * context type (`RoomContext<State, Events>`) when the room declares events:
 * neither reaches a `message(...)` call otherwise (it then fails to compile).
 *
 * ```ts
 * move: message(shape({ cell: int({ min: 0, max: 8 }) }), (ctx: Ctx, { cell }, sender) => {…}),
 * ```
 */
export function message<
  V extends Validator<unknown>,
  R extends Value | void,
  S = never,
  E extends EventMap = EventMap,
>(
  body: V,
  handle: Handler<S, E, BodyOf<V>, R>,
): Message<S, E, BodyOf<V>, R> & { readonly [messageBrand]: true } {
  return { [messageBrand]: true, body: body as Validator<BodyOf<V>>, handle };
}

/** Marks what {@link message} returns: `onMessage` takes no hand-made `{ body, handle }` whose body type no one checked. */
export const messageBrand: unique symbol = Symbol.for("rookery.message");

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

/** Everything in a room definition but its messages. */
export type RoomBase<S, E extends EventMap = EventMap> = {
  /** Room type name: `^[A-Za-z0-9_-]{1,64}$`. */
  type: string;
  /** @default "durable" */
  durability?: Durability;
  /** Calls `onTick` this often while the room is active. @default none */
  tickMs?: number;
  /** Leader election policy. @default longestPresent */
  leaderPolicy?: LeaderPolicy;
  /**
   * Type-only: declares the events the room emits (`events: {} as MyEvents`),
   * so `ctx.emit`/`ctx.emitTo` and typed clients check them. Not read at run
   * time. @default any event type, any body
   */
  events?: E;
  /** The state of a brand-new room. */
  initialState(room: { type: string; id: string }): S;
  onJoin?(ctx: RoomContext<S, E>, member: Member): void;
  onLeave?(ctx: RoomContext<S, E>, member: Member): void;
  onTick?(ctx: RoomContext<S, E>): void;
  onTimer?(ctx: RoomContext<S, E>, name: string): void;
  onLeaderChange?(ctx: RoomContext<S, E>, leader: string | null, previous: string | null): void;
  /**
   * What a member may see of the state, for the snapshot sent when it joins
   * (or resumes too far behind): hide other players' cards, secrets, ids.
   * Must not change `state`; runs under the handler time budget. Events are
   * not filtered by it: address private events with `emitTo`.
   * @default the whole state
   */
  visibleState?(state: S, member: Member): Value;
};

/**
 * A room type: a plain module. `M` maps its message types to their bodies,
 * `E` its event types to theirs. Each `onMessage` entry is a
 * {@link Message} (`{ body: validator, handle }`) or, the older form, a bare
 * handler whose body type `M` claims and the `validate` map checks.
 */
export type RoomDefinition<
  S,
  M extends Record<string, unknown> = Record<string, Value>,
  E extends EventMap = EventMap,
> = RoomBase<S, E> & {
  onMessage: { [T in keyof M]: Message<S, E, M[T]> | Handler<S, E, M[T]> };
  /**
   * Guards for bare handlers (a {@link Message} carries its own): a body
   * that fails is refused with INPUT_REJECTED `invalid <type> body`.
   * @default accepts every body
   */
  validate?: { [T in keyof M]?: (body: Value) => body is Value & M[T] };
};

/**
 * What {@link defineRoom} returns: a definition with the brand nodes load
 * room types by, and (type-only) its state, message and event types for
 * typed clients and tests.
 */
export type Room<
  S = unknown,
  M extends Record<string, unknown> = Record<string, Value>,
  E extends EventMap = EventMap,
  R = { [T in keyof M]: Value | void },
> = RoomDefinition<S, M, E> & {
  readonly [roomBrand]: true;
  readonly "~types"?: {
    readonly state: S;
    readonly messages: M;
    readonly events: E;
    readonly results: R;
  };
};

/** Marks definitions made by {@link defineRoom}; `Symbol.for`, so two copies of this package agree. */
export const roomBrand: unique symbol = Symbol.for("rookery.room");

/** Whether `value` was made by {@link defineRoom} (or copied from one with `{ ...room }`). */
export function isRoom(value: unknown): value is Room<never, never, never> {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [roomBrand]?: unknown })[roomBrand] === true
  );
}

/** What `onMessage` of {@link defineRoom} accepts: {@link message}s and bare handlers (body: any {@link Value}). */
export type MessageEntry<S, E extends EventMap> =
  | {
      readonly [messageBrand]: true;
      readonly "~events"?: E;
      body?: unknown;
      handle: Handler<S, E, never>;
    }
  | Handler<S, E, Value>;

/** Message type -> body type, from each entry. */
export type BodiesOf<O> = {
  [T in keyof O]: O[T] extends { handle: (ctx: never, body: infer B, sender: never) => unknown }
    ? B
    : Value;
};

/** Message type -> the handler's result type (the ack's `result`). */
export type ResultsOf<O> = {
  [T in keyof O]: O[T] extends { handle: (...args: never) => infer R }
    ? R
    : O[T] extends (...args: never) => infer R
      ? R
      : Value | void;
};

/** Whether inputs of this room type are journaled before they are acknowledged (the default). */
export function isDurable(definition: { durability?: Durability }): boolean {
  return (definition.durability ?? Durability.Durable) === Durability.Durable;
}

/**
 * Defines a room type, branded so nodes load it. Each message declares its
 * body validator beside its handler ({@link message}), and the handler's
 * body type is the validator's:
 *
 * ```ts
 * type State = { n: number };
 * type Events = { count: number };
 * type Ctx = RoomContext<State, Events>;
 *
 * export const counter = defineRoom({
 *   type: "counter",
 *   events: {} as Events,
 *   initialState: (): State => ({ n: 0 }),
 *   onMessage: {
 *     add: message(shape({ by: int({ min: 1, max: 10 }) }), (ctx: Ctx, { by }) => {
 *       ctx.state.n += by;
 *       ctx.emit("count", ctx.state.n);
 *       return ctx.state.n;
 *     }),
 *     reset: (ctx) => void (ctx.state.n = 0), // no validator: the body is any Value
 *   },
 * });
 * ```
 *
 * The older form with explicit types, `defineRoom<State, Messages>({ onMessage:
 * { add(ctx, body) {…} }, validate })`, still works. Either way the state
 * must be {@link Plain} data.
 */
export function defineRoom<
  S extends Plain,
  O extends Record<string, MessageEntry<S, E>>,
  E extends EventMap = EventMap,
>(definition: RoomBase<S, E> & { onMessage: O }): Room<S, BodiesOf<O>, E, ResultsOf<O>>;
export function defineRoom<
  S extends Plain,
  M extends Record<string, unknown> = Record<string, Value>,
  E extends EventMap = EventMap,
>(definition: RoomDefinition<S, M, E>): Room<S, M, E>;
export function defineRoom(definition: object): unknown {
  return { ...definition, [roomBrand]: true };
}
