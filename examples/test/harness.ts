/**
 * A small in-memory host for room definitions, for pure logic tests. It
 * mirrors what the runtime promises room code: one handler at a time, a
 * `RoomContext` whose clock is a fake one the test advances, members oldest
 * first with the leader picked by the room's policy (default
 * `longestPresent`), persisted one-shot timers, and atomic handlers (a
 * throwing handler, or `ctx.reject`, leaves state, members, timers and
 * events as they were).
 *
 * It is stricter than the runtime in two ways, to catch mistakes early:
 * while a handler runs `Date.now()` and `Math.random()` throw, and after each
 * handler the state and every event body must be plain MessagePack data
 * (no `undefined`, class instances, Maps, non-finite numbers).
 *
 * ```ts
 * const room = new RoomHarness(chessRoom);
 * room.join("alice:1");
 * room.join("bob:1");
 * room.send("alice:1", "move", { from: "e2", to: "e4" });
 * room.advance(300_000); // black's flag falls
 * expect(room.last("gameOver")?.body).toMatchObject({ result: "1-0", reason: "time" });
 * ```
 */
import {
  longestPresent,
  type Member,
  type RoomContext,
  type RoomDefinition,
} from "@rookery/actors";
import { isEventType, isRoomType, type Value } from "@rookery/protocol";
import { expect } from "vitest";

/** Thrown by the harness when the room refuses an input (`INPUT_REJECTED` in the runtime). */
export class Rejected extends Error {
  override readonly name = "Rejected";
}

export interface CapturedEvent {
  type: string;
  body: Value;
  /** Recipients for `emitTo`, null for `emit` (everyone). */
  to: string[] | null;
  /** Room time the event was emitted. */
  at: number;
}

/** What the runtime persists for a room: enough to resume it "on another node". */
export interface HarnessSnapshot<S> {
  state: S;
  members: Member[];
  leader: string | null;
  timers: Record<string, number>;
  rng: number;
}

export interface HarnessOptions<S> {
  id?: string;
  /** Initial room time (ms since epoch). @default START */
  now?: number;
  /** Resume from a snapshot instead of `initialState`. */
  from?: HarnessSnapshot<S>;
}

/** Default start of the fake clock. */
export const START = Date.UTC(2025, 0, 1);

type AnyDefinition<S> = RoomDefinition<S, Record<string, Value>>;

export class RoomHarness<S, M extends Record<string, Value> = Record<string, Value>> {
  readonly room: { type: string; id: string };
  state: S;
  members: Member[];
  leader: string | null;
  /** Armed timers: name → due time. */
  timers: Record<string, number>;
  /** Every committed event, in order. */
  events: CapturedEvent[] = [];
  #now: number;
  #rng: number;
  readonly #def: AnyDefinition<S>;

  constructor(definition: RoomDefinition<S, M>, options: HarnessOptions<S> = {}) {
    if (!isRoomType(definition.type)) throw new Error(`bad room type ${definition.type}`);
    this.#def = definition as unknown as AnyDefinition<S>;
    this.room = { type: definition.type, id: options.id ?? "test" };
    this.#now = options.now ?? START;
    const from = options.from ? structuredClone(options.from) : null;
    this.state = from ? from.state : definition.initialState(this.room);
    assertPlain(this.state, "initial state");
    this.members = from?.members ?? [];
    this.leader = from?.leader ?? null;
    this.timers = from?.timers ?? {};
    this.#rng = from?.rng ?? 0x9e3779b9;
  }

  now(): number {
    return this.#now;
  }

  member(id: string): Member {
    const found = this.members.find((m) => m.id === id);
    if (!found) throw new Error(`${id} is not a member`);
    return found;
  }

  snapshot(): HarnessSnapshot<S> {
    return structuredClone({
      state: this.state,
      members: this.members,
      leader: this.leader,
      timers: this.timers,
      rng: this.#rng,
    });
  }

  /** Adds a member (a rejoin of a present member is a resume: nothing runs). */
  join(id: string, name = id): Member {
    const existing = this.members.find((m) => m.id === id);
    if (existing) return existing;
    const user = id.includes(":") ? id.slice(0, id.lastIndexOf(":")) : id;
    const member: Member = { id, user, name, joinedAt: this.#now };
    this.#atomically((events) => {
      this.members.push(member);
      this.#run(events, (ctx) => this.#def.onJoin?.(ctx, { ...member }));
      this.#elect(events);
    });
    return member;
  }

  leave(id: string): void {
    const index = this.members.findIndex((m) => m.id === id);
    if (index < 0) return;
    this.#atomically((events) => {
      const [gone] = this.members.splice(index, 1);
      this.#run(events, (ctx) => this.#def.onLeave?.(ctx, { ...gone! }));
      this.#elect(events);
    });
  }

  /** Sends a well-typed input; returns the ack result. Throws `Rejected` if refused. */
  send<T extends keyof M & string>(from: string, type: T, body: M[T]): Value | undefined {
    return this.sendRaw(from, type, body);
  }

  /** Sends any input, malformed or not (as a client could). */
  sendRaw(from: string, type: string, body: Value): Value | undefined {
    const sender = this.member(from);
    const handler = Object.hasOwn(this.#def.onMessage, type)
      ? this.#def.onMessage[type]
      : undefined;
    if (typeof handler !== "function") throw new Rejected(`unknown message type ${type}`);
    const guard = this.#def.validate?.[type];
    if (guard) {
      let ok: boolean;
      try {
        ok = guard(structuredClone(body));
      } catch {
        ok = false;
      }
      if (!ok) throw new Rejected(`invalid ${type} body`);
    }
    return this.#atomically((events) =>
      this.#run(events, (ctx) => handler(ctx, structuredClone(body), { ...sender }) ?? undefined),
    );
  }

  /** Moves the clock forward, firing due timers in due order at their due time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let fired = 0; ; fired++) {
      if (fired > 10_000) throw new Error("timers keep re-arming without time passing");
      let next: [string, number] | undefined;
      for (const entry of Object.entries(this.timers)) {
        if (entry[1] <= target && (!next || entry[1] < next[1])) next = entry;
      }
      if (!next) break;
      this.#now = Math.max(this.#now, next[1]);
      this.fireTimer(next[0]);
    }
    this.#now = target;
  }

  /** Runs `onTimer(name)` now, armed or not (an early or duplicate delivery). */
  fireTimer(name: string): void {
    this.#atomically((events) => {
      delete this.timers[name];
      this.#run(events, (ctx) => this.#def.onTimer?.(ctx, name));
    });
  }

  tick(): void {
    this.#atomically((events) => this.#run(events, (ctx) => this.#def.onTick?.(ctx)));
  }

  eventsOf(type: string): CapturedEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  last(type: string): CapturedEvent | undefined {
    return this.eventsOf(type).at(-1);
  }

  /** Events a given member would receive. */
  eventsFor(member: string): CapturedEvent[] {
    return this.events.filter((e) => e.to === null || e.to.includes(member));
  }

  clearEvents(): void {
    this.events = [];
  }

  // ---- internals ----

  /** Runs `fn` as one input: on any throw, everything is restored. */
  #atomically<T>(fn: (events: CapturedEvent[]) => T): T {
    const before = structuredClone({
      state: this.state,
      members: this.members,
      leader: this.leader,
      timers: this.timers,
      rng: this.#rng,
    });
    const events: CapturedEvent[] = [];
    try {
      const result = fn(events);
      assertPlain(this.state, "state");
      if (result !== undefined) assertPlain(result, "result");
      this.events.push(...events);
      return result;
    } catch (err) {
      this.state = before.state;
      this.members = before.members;
      this.leader = before.leader;
      this.timers = before.timers;
      this.#rng = before.rng;
      throw err;
    }
  }

  #elect(events: CapturedEvent[]): void {
    const policy = this.#def.leaderPolicy ?? longestPresent;
    const next = policy(
      this.members.map((m) => ({ ...m })),
      this.leader,
    );
    const leader =
      next !== null && this.members.some((m) => m.id === next)
        ? next
        : (this.members[0]?.id ?? null);
    if (leader === this.leader) return;
    const previous = this.leader;
    this.leader = leader;
    this.#run(events, (ctx) => this.#def.onLeaderChange?.(ctx, leader, previous));
  }

  #run<T>(events: CapturedEvent[], body: (ctx: RoomContext<S>) => T): T {
    const ctx = this.#context(events);
    const realNow = Date.now;
    const realRandom = Math.random;
    Date.now = () => {
      throw new Error("room handlers must use ctx.now(), not Date.now()");
    };
    Math.random = () => {
      throw new Error("room handlers must use ctx.random(), not Math.random()");
    };
    try {
      const result = body(ctx);
      this.state = ctx.state;
      return result;
    } finally {
      Date.now = realNow;
      Math.random = realRandom;
    }
  }

  #context(events: CapturedEvent[]): RoomContext<S> {
    const at = this.#now;
    const push = (type: string, body: Value | undefined, to: string[] | null) => {
      if (!isEventType(type) || type.startsWith("$")) throw new Error(`bad event type ${type}`);
      const copy = structuredClone(body ?? null);
      assertPlain(copy, `${type} event body`);
      events.push({ type, body: copy, to, at });
    };
    return {
      state: this.state,
      room: { ...this.room },
      members: this.members.map((m) => ({ ...m })),
      leader: this.leader,
      now: () => at,
      random: () => {
        this.#rng = mulberry32(this.#rng);
        return this.#rng / 4294967296;
      },
      emit: (type, body) => push(type, body, null),
      emitTo: (to, type, body) => push(type, body, typeof to === "string" ? [to] : [...to]),
      setTimer: (name, delayMs) => {
        this.timers[name] = at + Math.max(0, delayMs);
      },
      clearTimer: (name) => {
        delete this.timers[name];
      },
      reject: (message) => {
        throw new Rejected(message);
      },
    };
  }
}

/**
 * Asserts that `input` is refused with `Rejected` (matching `message` if
 * given) and that the room is exactly as before: state, members, leader,
 * timers, and no new events.
 */
export function expectRejected<S, M extends Record<string, Value>>(
  room: RoomHarness<S, M>,
  input: () => unknown,
  message?: RegExp,
): void {
  const before = room.snapshot();
  const eventCount = room.events.length;
  let error: unknown;
  try {
    input();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(Rejected);
  if (message) expect((error as Error).message).toMatch(message);
  expect(room.snapshot()).toEqual(before);
  expect(room.events).toHaveLength(eventCount);
}

/** Throws unless `value` is plain MessagePack data (what the runtime can journal and snapshot). */
export function assertPlain(value: unknown, path: string): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`${path} is not a finite number`);
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new Error(`${path}[${i}] is a hole`);
      assertPlain(value[i], `${path}[${i}]`);
    }
    return;
  }
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`${path} is a ${value.constructor.name}, not a plain object`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new Error(`${path}.${key} is undefined`);
      assertPlain(item, `${path}.${key}`);
    }
    return;
  }
  throw new Error(`${path} is ${typeof value}`);
}

function mulberry32(state: number): number {
  let t = (state + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
