/**
 * `@rookery/actors/testing`: a test harness for room definitions, running
 * them on the same {@link RoomCore} every node runs (no copy of it), with a
 * clock the test controls.
 *
 * ```ts
 * import { expectRejected, RoomHarness, START } from "@rookery/actors/testing";
 *
 * const room = new RoomHarness(chessRoom, { traps: true });
 * room.join("alice:1");
 * room.join("bob:1");
 * room.send("alice:1", "move", { from: "e2", to: "e4" }); // the ack's result
 * expectRejected(room, () => room.send("alice:1", "move", { from: "d2", to: "d4" }), /not your turn/);
 * room.advance(300_000); // black's flag falls: due timers fire in order
 * expect(room.last("gameOver")?.body).toMatchObject({ result: "1-0", reason: "time" });
 * room.checkReplay(); // the journal replayed on a fresh core gives the same room
 * ```
 *
 * What it does as the node does: every join, leave, input, timer and tick
 * is a journal entry applied by the core (so rollback on a throw, the
 * member order, leader election, event numbering, `ctx.random()` and
 * guard failures are the runtime's own); a refused input is journaled as a
 * `reject` entry and remembered for resends; timers fire at their due time,
 * in due order, only while still armed at that time (as `RoomClock` does);
 * ticks run every `tickMs`.
 *
 * What it adds for tests, opt-in with `traps: true`: while room code runs,
 * `Date.now()` and `Math.random()` throw {@link DeterminismError}, and after
 * each entry the state, the result and every event body must be plain data
 * (no `Map`, `Date`, class instance, function, `undefined` or non-finite
 * number); an entry that breaks this is undone and throws.
 */
import type { Value } from "@rookery/protocol";
import type { MemberInfo } from "@rookery/protocol/internal";
import { deepStrictEqual, match } from "node:assert/strict";
import { decodeSnapshot, encodeSnapshot, type JournalEntry, type Snapshot } from "../journal";
import type { EventMap, Member, RoomDefinition } from "../room";
import {
  DEFAULT_DEDUPE_WINDOW,
  InputRejectedError,
  NotJoinedError,
  RoomCore,
  type Applied,
} from "../room-core";

export { InputRejectedError, NotJoinedError } from "../room-core";
export type { JournalEntry, Snapshot } from "../journal";

/** Default start of the harness clock: 2025-01-01T00:00:00Z. */
export const START = Date.UTC(2025, 0, 1);

/** Room code broke a determinism or plain-data rule (only with `traps: true`). */
export class DeterminismError extends Error {
  override readonly name = "DeterminismError";
}

export interface HarnessOptions {
  /** Room id (it seeds `ctx.random()`, as on a node). @default "test" */
  id?: string;
  /** Start time of the clock (ms since epoch). @default START */
  now?: number;
  /** Resume from this snapshot (see {@link RoomHarness.snapshot}) instead of `initialState`. */
  from?: Snapshot;
  /** Determinism traps: `Date.now`/`Math.random` throw in room code; state and events must be plain data. @default false */
  traps?: boolean;
  /** Time budget of each handler, as on a node (0: none). @default 0 */
  budgetMs?: number;
  /** Outcomes remembered per member for resends. @default DEFAULT_DEDUPE_WINDOW */
  dedupeWindow?: number;
}

/** An event the room emitted, in room order. */
export interface HarnessEvent {
  /** Room event sequence number (what clients order by). */
  seq: number;
  type: string;
  body: Value;
  /** Recipients of an `emitTo`; null for an `emit` (every member). */
  to: string[] | null;
  /** Room time of the entry that emitted it. */
  at: number;
}

/** What the sender of an input is answered: an ack with its result, or an error. */
export type InputOutcome =
  | { ok: true; result: Value | undefined }
  | {
      ok: false;
      /** `INPUT_REJECTED`, `NOT_JOINED` or `SEQ_EXPIRED`, as on the wire. */
      code: string;
      message: string;
      /** What the room code threw (an `InputRejectedError` for `ctx.reject` and failed guards). */
      error?: unknown;
    };

/** What a rejected input must not change: the room as its members see it. */
export interface RoomView {
  state: unknown;
  members: Member[];
  leader: string | null;
  timers: Record<string, number>;
  rng: number;
  seq: number;
}

type AnyRoom = ConstructorParameters<typeof RoomCore>[0];

/**
 * One room on the real core, driven by the test: members join and leave,
 * send inputs, and time passes only when the test says so.
 */
export class RoomHarness<
  S,
  M extends Record<string, unknown> = Record<string, Value>,
  E extends EventMap = EventMap,
> {
  readonly room: { type: string; id: string };
  readonly definition: RoomDefinition<S, M, E>;
  /** Every event since the start or the last {@link clearEvents}, in order. */
  events: HarnessEvent[] = [];
  /** Every entry applied, as a node would have journaled it (replayed by {@link checkReplay}). */
  readonly journal: JournalEntry[] = [];
  readonly #core: RoomCore;
  readonly #from: Snapshot | null;
  readonly #traps: boolean;
  readonly #budgetMs: number;
  readonly #window: number;
  /** Every event ever, for the replay check ({@link clearEvents} does not touch it). */
  readonly #log: HarnessEvent[] = [];
  /** What each member received while present, by member id. */
  readonly #inboxes = new Map<string, HarnessEvent[]>();
  #now: number;
  #nextTick: number | undefined;

  constructor(definition: RoomDefinition<S, M, E>, options: HarnessOptions = {}) {
    this.definition = definition;
    this.room = { type: definition.type, id: options.id ?? "test" };
    this.#now = options.now ?? START;
    this.#traps = options.traps ?? false;
    this.#budgetMs = options.budgetMs ?? 0;
    this.#window = options.dedupeWindow ?? DEFAULT_DEDUPE_WINDOW;
    this.#from = options.from ? structuredClone(options.from) : null;
    this.#core = this.#trapped(() => this.#newCore());
    if (this.#traps) assertPlain(this.#core.state, "initial state");
    if (definition.tickMs && definition.onTick) this.#nextTick = this.#now + definition.tickMs;
  }

  // ---- the room ----

  /** The live state (tests may read it, or set up a position by changing it). */
  get state(): S {
    return this.#core.state as S;
  }
  /** Current members, oldest first. */
  get members(): Member[] {
    return this.#core.storedMembers().map(toMember);
  }
  get leader(): string | null {
    return this.#core.leader;
  }
  /** Armed timers, name -> due time; live (a test may move or drop one). */
  get timers(): Record<string, number> {
    return this.#core.timers as Record<string, number>;
  }
  /** Last room event sequence number. */
  get seq(): number {
    return this.#core.seq;
  }
  /** The room clock (ms since epoch). */
  now(): number {
    return this.#now;
  }

  member(id: string): Member {
    const found = this.#core.member(id);
    if (!found) throw new Error(`${id} is not a member of this room`);
    return toMember(found);
  }

  /** What the node would persist: resume it with `new RoomHarness(definition, { from })` or {@link restart}. */
  snapshot(): Snapshot {
    return structuredClone(this.#core.snapshot(1, this.journal.length));
  }

  /**
   * The room re-homed on another node `downtimeMs` later, from its snapshot
   * (a failover): state, members, timers, dedupe windows and random state
   * carry over; events and the journal start afresh.
   */
  restart(downtimeMs = 0, options: Omit<HarnessOptions, "from" | "now" | "id"> = {}) {
    return new RoomHarness(this.definition, {
      traps: this.#traps,
      budgetMs: this.#budgetMs,
      dedupeWindow: this.#window,
      ...options,
      id: this.room.id,
      from: this.snapshot(),
      now: this.#now + downtimeMs,
    });
  }

  // ---- members and inputs ----

  /** Adds a member `<user>:<session>` (joining again while present is a resume: no handler runs). */
  join(id: string, name?: string): Member {
    const user = id.includes(":") ? id.slice(0, id.lastIndexOf(":")) : id;
    const info: MemberInfo = {
      id,
      user,
      name: name ?? user,
      gateway: "harness",
      gatewayEpoch: "1",
      conn: `conn-${id}`,
    };
    this.#apply({ k: "join", member: info, at: this.#now });
    return this.member(id);
  }

  /** Removes a member (nothing happens for one not present). */
  leave(id: string, reason = "left"): void {
    this.#apply({ k: "leave", member: id, reason, at: this.#now });
  }

  /**
   * Sends an input and returns the ack's result. A refusal (`ctx.reject`, a
   * failed guard, an unknown type) throws the core's
   * {@link InputRejectedError}; a sender not present throws
   * {@link NotJoinedError}; an error of the room code itself (a bug) is
   * rethrown as is, although the node answers it as INPUT_REJECTED too.
   */
  send<T extends keyof M & string>(from: string, type: T, body: M[T]): Value | undefined {
    return this.sendRaw(from, type, body as Value);
  }

  /** {@link send} for any type and body, malformed or not (as a client could send). */
  sendRaw(from: string, type: string, body: Value): Value | undefined {
    const outcome = this.input(from, type, body);
    if (outcome.ok) return outcome.result;
    throw outcome.error ?? new InputRejectedError(outcome.message);
  }

  /**
   * Sends an input and returns what its sender is answered, as on the wire.
   * `seq` defaults to the sender's next; a seq already handled gets its
   * remembered outcome again without running anything (a resend).
   */
  input(from: string, type: string, body: Value, options: { seq?: number } = {}): InputOutcome {
    const seq = options.seq ?? this.#core.lastSeq(from) + 1;
    const known = this.#core.known(from, seq);
    if (known.kind === "seen") {
      const o = known.outcome;
      return o.ok
        ? { ok: true, result: o.result }
        : { ok: false, code: o.code, message: o.message };
    }
    if (known.kind === "expired") {
      return {
        ok: false,
        code: "SEQ_EXPIRED",
        message: `input seq ${seq} is older than the window`,
      };
    }
    const at = this.#now;
    try {
      const applied = this.#apply({ k: "input", member: from, seq, type, body, at });
      return { ok: true, result: applied.result };
    } catch (error) {
      if (error instanceof DeterminismError) throw error;
      if (error instanceof NotJoinedError) {
        return { ok: false, code: "NOT_JOINED", message: error.message, error };
      }
      // As the node does: a refusal is an outcome, journaled for resends.
      const message = error instanceof Error ? error.message : String(error);
      const code = "INPUT_REJECTED";
      this.#apply({ k: "reject", member: from, seq, code, message, at });
      return { ok: false, code, message, error };
    }
  }

  // ---- time ----

  /** Moves the clock `ms` forward (see {@link advanceTo}). */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /**
   * Moves the clock to `time`, firing each timer due by then at its due time,
   * earliest first (equal times in the order they were armed), and the ticks
   * of a room with `tickMs`. A timer re-armed or cleared by an earlier one
   * fires as it now stands.
   */
  advanceTo(time: number): void {
    if (time < this.#now) throw new RangeError(`the clock cannot go back (${time} < ${this.#now})`);
    for (let fired = 0; ; fired++) {
      if (fired > 100_000) throw new Error("timers keep firing without time passing");
      let next: [string, number] | undefined;
      for (const entry of Object.entries(this.#core.timers)) {
        if (entry[1] <= time && (!next || entry[1] < next[1])) next = entry;
      }
      const tick = this.#nextTick !== undefined && this.#nextTick <= time ? this.#nextTick : null;
      if (next && (tick === null || next[1] <= tick)) {
        this.#now = Math.max(this.#now, next[1]);
        this.#apply({ k: "timer", name: next[0], at: this.#now });
      } else if (tick !== null) {
        this.#now = Math.max(this.#now, tick);
        this.#nextTick = tick + this.definition.tickMs!;
        this.#apply({ k: "tick", at: this.#now });
      } else break;
    }
    this.#now = time;
  }

  /** Runs `onTimer(name)` now, armed or not (an early or duplicate delivery). */
  fireTimer(name: string): void {
    this.#apply({ k: "timer", name, at: this.#now });
  }

  /** Runs `onTick` now. */
  tick(): void {
    this.#apply({ k: "tick", at: this.#now });
  }

  // ---- events ----

  eventsOf(type: string): HarnessEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  last(type: string): HarnessEvent | undefined {
    return this.eventsOf(type).at(-1);
  }

  /**
   * The events `member` received (since the last {@link clearEvents}): those
   * emitted to everyone or addressed to it while it was present, its own
   * `onJoin` events included.
   */
  eventsFor(member: string): HarnessEvent[] {
    return this.#inboxes.get(member) ?? [];
  }

  clearEvents(): void {
    this.events = [];
    this.#inboxes.clear();
  }

  // ---- checks ----

  /**
   * Replays the journal on a fresh core (from `initialState`, or the
   * snapshot this harness started from), as a node does on activation, and
   * throws unless it ends in the same room (state, members, leader, timers,
   * dedupe windows, random state, seq) with the same events. Also checks the
   * snapshot survives the node's MessagePack encoding unchanged.
   */
  checkReplay(): void {
    const fresh = this.#trapped(() => this.#newCore());
    const events: HarnessEvent[] = [];
    for (const entry of this.journal) {
      const applied = this.#trapped(() => fresh.replay(structuredClone(entry), this.#budgetMs));
      events.push(...captured(applied, entry.at));
    }
    const n = this.journal.length;
    deepStrictEqual(fresh.snapshot(1, n), this.#core.snapshot(1, n), "replay diverged");
    deepStrictEqual(events, this.#log, "replay emitted other events");
    const snapshot = this.#core.snapshot(1, n);
    deepStrictEqual(decodeSnapshot(encodeSnapshot(snapshot)), snapshot, "snapshot not plain data");
  }

  /** The room as members see it, for comparing before and after. */
  view(): RoomView {
    const s = this.#core.snapshot(1, 0);
    return structuredClone({
      state: s.state,
      members: this.members,
      leader: s.leader,
      timers: s.timers,
      rng: s.rng,
      seq: s.seq,
    });
  }

  // ---- internals ----

  #newCore(): RoomCore {
    const from = this.#from ? structuredClone(this.#from) : null;
    const definition = this.definition as unknown as AnyRoom;
    return new RoomCore(definition, this.room, from, this.#budgetMs, this.#window);
  }

  #apply(entry: JournalEntry): Applied {
    const checkpoint = this.#core.checkpoint(entry);
    const applied = this.#trapped(() => this.#core.apply(entry));
    if (this.#traps) {
      try {
        assertPlain(this.#core.state, "state");
        if (applied.result !== undefined) assertPlain(applied.result, "result");
        for (const e of applied.events) assertPlain(e.body, `${e.type} event body`);
      } catch (error) {
        this.#core.restore(checkpoint);
        throw error;
      }
    }
    this.journal.push(structuredClone(entry));
    const events = captured(applied, entry.at);
    this.events.push(...events);
    this.#log.push(...events);
    const present = new Set(this.#core.storedMembers().map((m) => m.id));
    for (const e of events) {
      for (const id of e.to ?? present) {
        if (!present.has(id)) continue;
        let inbox = this.#inboxes.get(id);
        if (!inbox) this.#inboxes.set(id, (inbox = []));
        inbox.push(e);
      }
    }
    return applied;
  }

  /** Runs room code with the determinism traps armed (if asked for). */
  #trapped<T>(fn: () => T): T {
    if (!this.#traps) return fn();
    const { now } = Date;
    const { random } = Math;
    Date.now = () => {
      throw new DeterminismError("room handlers must use ctx.now(), not Date.now()");
    };
    Math.random = () => {
      throw new DeterminismError("room handlers must use ctx.random(), not Math.random()");
    };
    try {
      return fn();
    } finally {
      Date.now = now;
      Math.random = random;
    }
  }
}

/**
 * Asserts that `input` throws the room's refusal ({@link InputRejectedError},
 * its message matching `message` if given) and that the room is as before:
 * state, members, leader, timers, random state and no new events. Returns
 * the error.
 */
export function expectRejected(
  room: { view(): RoomView; events: readonly HarnessEvent[] },
  input: () => unknown,
  message?: RegExp,
): InputRejectedError {
  const before = room.view();
  const count = room.events.length;
  let error: unknown;
  try {
    input();
  } catch (err) {
    error = err;
  }
  if (!(error instanceof InputRejectedError)) {
    throw new Error(
      `expected the input to be rejected, got ${error === undefined ? "an ack" : String(error)}`,
      {
        cause: error,
      },
    );
  }
  if (message) match(error.message, message);
  deepStrictEqual(room.view(), before, "a rejected input changed the room");
  deepStrictEqual(room.events.length, count, "a rejected input emitted events");
  return error;
}

/**
 * Throws {@link DeterminismError} unless `value` is plain data a node can
 * journal and snapshot: null, booleans, finite numbers, strings, bytes,
 * arrays without holes, and objects with a plain prototype and no
 * `undefined` values.
 */
export function assertPlain(value: unknown, path = "value"): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new DeterminismError(`${path} is not a finite number`);
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new DeterminismError(`${path}[${i}] is a hole`);
      assertPlain(value[i], `${path}[${i}]`);
    }
    return;
  }
  if (typeof value === "object") {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "object";
      throw new DeterminismError(`${path} is a ${name}, not a plain object`);
    }
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) throw new DeterminismError(`${path}.${key} is undefined`);
      assertPlain(item, `${path}.${key}`);
    }
    return;
  }
  throw new DeterminismError(`${path} is a ${typeof value}, not plain data`);
}

function captured(applied: Applied, at: number): HarnessEvent[] {
  return applied.events.map((e) => ({
    seq: e.seq,
    type: e.type,
    body: e.body,
    to: e.to ?? null,
    at,
  }));
}

function toMember(m: Member): Member {
  return { id: m.id, user: m.user, name: m.name, joinedAt: m.joinedAt };
}
