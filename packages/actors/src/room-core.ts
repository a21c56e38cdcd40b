import {
  SystemEvent,
  type LeaderEventBody,
  type LeaveEventBody,
  type MemberView,
  type Value,
} from "@rookery/protocol";
import type { MemberInfo } from "@rookery/protocol/internal";
import { lookup, record, type Known, type Outcome, type StoredDedupe } from "./dedupe";
import type { JournalEntry, Snapshot, StoredMember } from "./journal";
import {
  longestPresent,
  type EventMap,
  type Member,
  type Message,
  type RoomContext,
  type RoomDefinition,
} from "./room";
import { copyPlain } from "./plain-copy";
import { runHandler } from "./sandbox";
import { checkBody, type Validator } from "./validator";

/** An event produced by applying an entry, numbered in room order. */
export interface CoreEvent {
  seq: number;
  type: string;
  body: Value;
  to?: string[];
}

export interface Applied {
  result?: Value;
  events: CoreEvent[];
}

/** The room refused an input (`ctx.reject`, a failed body validator, or an unknown type). */
export class InputRejectedError extends Error {
  readonly code = "INPUT_REJECTED";
  override readonly name = "InputRejectedError";
}

/** The member is not in the room. */
export class NotJoinedError extends Error {
  readonly code = "NOT_JOINED";
  override readonly name = "NotJoinedError";
}

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;
type AnyMessage = Message<unknown, EventMap, Value>;

/** What applying entries changes: the snapshot without its bookkeeping. */
type Mutable = Omit<Snapshot, "v" | "epoch" | "journalSeq" | "state"> & { state: unknown };

/** Where a room was before an entry; {@link RoomCore.restore} goes back there. */
export interface Checkpoint {
  readonly m: unknown;
  readonly member?: string;
  readonly window?: StoredDedupe;
}

/** Outcomes kept per member for resends (docs/protocol.md §6). */
export const DEFAULT_DEDUPE_WINDOW = 32;

/**
 * The deterministic heart of a room: applies journal entries to state,
 * members and leader, and numbers the events they produce. It does no I/O,
 * so live handling and journal replay run exactly the same code. A handler
 * that throws leaves everything as it was.
 */
export class RoomCore {
  #m: Mutable;
  /** The handler run in progress, which the context's functions act on. */
  #turn: { m: Mutable; events: CoreEvent[]; at: number } | undefined;
  readonly #tools = this.#makeTools();

  constructor(
    readonly definition: AnyRoom,
    readonly room: { type: string; id: string },
    snapshot: Snapshot | null,
    private budgetMs: number,
    private readonly windowSize = DEFAULT_DEDUPE_WINDOW,
  ) {
    this.#m = snapshot
      ? {
          state: snapshot.state,
          members: snapshot.members,
          leader: snapshot.leader,
          seq: snapshot.seq,
          dedupe: snapshot.dedupe,
          timers: snapshot.timers,
          rng: snapshot.rng,
          n: snapshot.n ?? 0,
        }
      : {
          state: definition.initialState(room),
          members: [],
          leader: null,
          seq: 0,
          dedupe: {},
          timers: {},
          rng: seedOf(`${room.type}/${room.id}`),
          n: 0,
        };
  }

  get seq(): number {
    return this.#m.seq;
  }
  get state(): unknown {
    return this.#m.state;
  }
  get leader(): string | null {
    return this.#m.leader;
  }
  get timers(): Readonly<Record<string, number>> {
    return this.#m.timers;
  }
  members(): MemberView[] {
    return this.#m.members.map(member);
  }
  member(id: string): StoredMember | undefined {
    return this.#m.members.find((m) => m.id === id);
  }
  /** The member list; a new array whenever membership changes, never edited in place. */
  storedMembers(): readonly StoredMember[] {
    return this.#m.members;
  }
  /** What the room knows of this input: new, seen (with its outcome) or forgotten. */
  known(member: string, seq: number): Known {
    return lookup(this.#m.dedupe[member], seq);
  }
  /** Highest input seq processed for this member (0 if none). */
  lastSeq(member: string): number {
    const w = this.#m.dedupe[member];
    if (w === undefined) return 0;
    return typeof w === "number" ? w : Math.max(w.f, ...w.s);
  }

  snapshot(epoch: number, journalSeq: number): Snapshot {
    const m = this.#m;
    return {
      v: 1,
      epoch,
      state: m.state as Value,
      members: m.members,
      leader: m.leader,
      seq: m.seq,
      dedupe: m.dedupe,
      timers: m.timers,
      rng: m.rng,
      journalSeq,
      n: m.n,
    };
  }

  /** Applies one entry atomically (on any throw, nothing changed) and numbers it. */
  apply(entry: JournalEntry): Applied {
    const before = this.#m;
    // Only the handler-owned state needs a deep copy to roll back: the core
    // replaces the member list (only when it changes) and the member records
    // instead of editing them, copies the small timer map, and writes the
    // dedupe table last, after everything that can throw.
    // The copy also keeps every committed state object unchanged for good,
    // which snapshots and join views taken before a later apply rely on.
    const draft: Mutable = {
      ...before,
      state: copyPlain(before.state),
      timers: { ...before.timers },
    };
    this.#m = draft;
    const events: CoreEvent[] = [];
    try {
      const result = this.#dispatch(entry, draft, events);
      // Live entries take the next number; replayed ones keep the number they were journaled with.
      entry.n = draft.n = entry.n ?? before.n + 1;
      return { result, events };
    } catch (err) {
      this.#m = before;
      throw err;
    }
  }

  /** Taken before `apply(entry)`, for when the apply is cut off where its own rollback cannot run. */
  checkpoint(entry: JournalEntry): Checkpoint {
    const m = this.#m;
    return entry.k === "input" || entry.k === "reject"
      ? { m, member: entry.member, window: m.dedupe[entry.member] }
      : { m };
  }

  /**
   * Undoes an apply begun after `checkpoint` and cut off by a time budget
   * (V8 terminates without running catch blocks). Applies replace the state
   * object rather than edit it, except the dedupe table, written last.
   */
  restore(checkpoint: Checkpoint): void {
    const m = checkpoint.m as Mutable;
    this.#m = m;
    if (checkpoint.member === undefined) return;
    if (checkpoint.window === undefined) delete m.dedupe[checkpoint.member];
    else m.dedupe[checkpoint.member] = checkpoint.window;
  }

  /**
   * Applies a journaled entry again (activation). It succeeded when first
   * applied, so it must now: a failure means the replay diverges from what
   * was acknowledged, and the caller must not serve the room. The budget is
   * wider than live: re-homing many rooms at once slows every handler.
   */
  replay(entry: JournalEntry, budgetMs: number): Applied {
    const live = this.budgetMs;
    this.budgetMs = budgetMs;
    try {
      return this.apply(entry);
    } finally {
      this.budgetMs = live;
    }
  }

  /** True when a journaled entry is already part of this state (taken into a later snapshot). */
  includes(entry: JournalEntry): boolean {
    return entry.n !== undefined && entry.n <= this.#m.n;
  }

  #dispatch(entry: JournalEntry, m: Mutable, events: CoreEvent[]): Value | undefined {
    switch (entry.k) {
      case "join":
        return this.#join(entry.member, entry.at, m, events);
      case "leave":
        return this.#leave(entry.member, entry.reason, entry.at, m, events);
      case "input":
        return this.#input(entry, m, events);
      case "reject":
        this.#remember(m, entry.member, entry.seq, {
          ok: false,
          code: entry.code,
          message: entry.message,
        });
        return undefined;
      case "timer":
        delete m.timers[entry.name];
        this.#run(m, events, entry.at, (ctx) => this.definition.onTimer?.(ctx, entry.name));
        return undefined;
      case "tick":
        this.#run(m, events, entry.at, (ctx) => this.definition.onTick?.(ctx));
        return undefined;
    }
  }

  #join(info: MemberInfo, at: number, m: Mutable, events: CoreEvent[]): undefined {
    const index = m.members.findIndex((x) => x.id === info.id);
    if (index >= 0) {
      // A rejoin from a new connection or gateway: same member, new address.
      m.members = m.members.slice();
      m.members[index] = stored(info, m.members[index]!.joinedAt);
      return undefined;
    }
    const joined = stored(info, at);
    m.members = [...m.members, joined];
    this.#run(m, events, at, (ctx) => this.definition.onJoin?.(ctx, member(joined)));
    push(m, events, SystemEvent.Join, member(joined) as unknown as Value);
    this.#elect(m, events, at);
    return undefined;
  }

  #leave(id: string, reason: string, at: number, m: Mutable, events: CoreEvent[]): undefined {
    const index = m.members.findIndex((x) => x.id === id);
    if (index < 0) return undefined;
    m.members = m.members.slice();
    const [gone] = m.members.splice(index, 1);
    this.#run(m, events, at, (ctx) => this.definition.onLeave?.(ctx, member(gone!)));
    push(m, events, SystemEvent.Leave, { id, reason } as LeaveEventBody);
    this.#elect(m, events, at);
    return undefined;
  }

  #input(entry: Extract<JournalEntry, { k: "input" }>, m: Mutable, events: CoreEvent[]) {
    const sender = m.members.find((x) => x.id === entry.member);
    if (!sender) throw new NotJoinedError(`${entry.member} is not a member of this room`);
    const { handle, body: validator } = messageOf(this.definition, entry.type);
    // The validator runs under the handler's budget too: it is room code as well.
    const result = this.#run(m, events, entry.at, (ctx) => {
      // The handler gets its own copy: the entry must keep the body as sent,
      // since a durable room encodes it for the journal after this apply (group
      // commit) and replay must see what the live handler saw. A handler that
      // stores the body in its state and edits it would otherwise change it.
      const sent = copyPlain(entry.body);
      const body = validator ? validated(entry.type, validator, sent) : sent;
      return handle(ctx, body, member(sender));
    });
    this.#remember(m, entry.member, entry.seq, { ok: true, result });
    return result;
  }

  /** Written last in an apply, after everything that can throw (see `restore`). */
  #remember(m: Mutable, member: string, seq: number, outcome: Outcome): void {
    m.dedupe[member] = record(m.dedupe[member], seq, outcome, this.windowSize);
  }

  #elect(m: Mutable, events: CoreEvent[], at: number): void {
    const policy = this.definition.leaderPolicy;
    const views = m.members.map(member);
    // A room's own policy is room code too: under the budget like a handler.
    const next = policy
      ? runHandler(this.definition, () => policy(views, m.leader), this.budgetMs)
      : longestPresent(views, m.leader);
    const leader =
      next !== null && views.some((v) => v.id === next) ? next : (views[0]?.id ?? null);
    if (leader === m.leader) return;
    const previous = m.leader;
    m.leader = leader;
    push(m, events, SystemEvent.Leader, { id: leader, prev: previous } satisfies LeaderEventBody);
    this.#run(m, events, at, (ctx) => this.definition.onLeaderChange?.(ctx, leader, previous));
  }

  #run(m: Mutable, events: CoreEvent[], at: number, body: (ctx: RoomContext<unknown>) => unknown) {
    const ctx = this.#context(m, events, at);
    // Cooperative checks if the room module was instrumented, else the vm timeout (sandbox.ts).
    const result = runHandler(this.definition, () => body(ctx), this.budgetMs);
    m.state = ctx.state;
    return result === undefined ? undefined : (result as Value);
  }

  #context(m: Mutable, events: CoreEvent[], at: number): RoomContext<unknown> {
    this.#turn = { m, events, at };
    const tools = this.#tools;
    return {
      state: m.state,
      room: this.room,
      // Built only if the handler reads it: most handlers never do, and this runs per input.
      get members() {
        return m.members.map(member);
      },
      leader: m.leader,
      now: tools.now,
      random: tools.random,
      emit: tools.emit,
      emitTo: tools.emitTo,
      setTimer: tools.setTimer,
      clearTimer: tools.clearTimer,
      reject: tools.reject,
    };
  }

  /**
   * The context's functions, made once per core and acting on the current
   * run (runs never nest): a run makes no closures of them. They stay plain
   * functions, so a handler may call them unbound.
   */
  #makeTools(): Omit<RoomContext<unknown>, "state" | "room" | "members" | "leader"> {
    const turn = () => this.#turn!;
    return {
      now: () => turn().at,
      random: () => {
        const { m } = turn();
        m.rng = nextRng(m.rng);
        return m.rng / 4294967296;
      },
      emit: (type, body) => {
        const { m, events } = turn();
        push(m, events, type, body ?? null);
      },
      emitTo: (to, type, body) => {
        const { m, events } = turn();
        push(m, events, type, body ?? null, typeof to === "string" ? [to] : [...to]);
      },
      setTimer: (name, delayMs) => {
        const { m, at } = turn();
        m.timers[name] = at + Math.max(0, delayMs);
      },
      clearTimer: (name) => {
        delete turn().m.timers[name];
      },
      reject: (message) => {
        throw new InputRejectedError(message);
      },
    };
  }
}

function push(m: Mutable, events: CoreEvent[], type: string, body: Value, to?: string[]): void {
  m.seq += 1;
  // A copy: the handler may go on changing the state object it emitted.
  const copy = copyPlain(body);
  events.push(to ? { seq: m.seq, type, body: copy, to } : { seq: m.seq, type, body: copy });
}

/** A message type's handler and validator, whichever form the definition gives them in. */
function messageOf(definition: AnyRoom, type: string): AnyMessage {
  const entry = Object.hasOwn(definition.onMessage, type) ? definition.onMessage[type] : undefined;
  if (typeof entry === "function") return { handle: entry, body: definition.validate?.[type] };
  if (typeof entry?.handle === "function") return entry;
  throw new InputRejectedError(`unknown message type ${JSON.stringify(type)}`);
}

/** The body the handler gets, or INPUT_REJECTED `invalid <type> body` (documented in docs/rooms.md). */
function validated(type: string, validator: Validator<Value>, body: Value): Value {
  const checked = checkBody(validator, body);
  if (checked.ok) return checked.body;
  const message = `invalid ${type} body${checked.reason ? `: ${checked.reason}` : ""}`;
  throw new InputRejectedError(message, { cause: checked.cause });
}

/**
 * A member's record, written out field by field: a literal with a fixed
 * shape takes about 80 bytes where `{ ...info, joinedAt }` took 375 (the
 * spread object grows a separate property store). Gateway names and epochs
 * are shared by many members: each decoded join brings its own copy of
 * them, so one copy is kept.
 */
function stored(info: MemberInfo, joinedAt: number): StoredMember {
  const { id, user, name, conn } = info;
  const gateway = intern(info.gateway);
  const gatewayEpoch = intern(info.gatewayEpoch);
  return { id, user, name, gateway, gatewayEpoch, conn, joinedAt };
}

/** Gateway names and epochs seen lately (a few per cluster; bounded should that change). */
const interned = new Map<string, string>();

function intern(text: string): string {
  const known = interned.get(text);
  if (known !== undefined) return known;
  if (interned.size >= 1024) interned.clear();
  interned.set(text, text);
  return text;
}

function member(stored: StoredMember): Member {
  return { id: stored.id, user: stored.user, name: stored.name, joinedAt: stored.joinedAt };
}

/** mulberry32 step on a 32-bit state. */
function nextRng(state: number): number {
  let t = (state + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
