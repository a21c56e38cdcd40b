import {
  ResumeMode,
  SystemEvent,
  type EventFrame,
  type JoinedFrame,
  type LeaderEventBody,
  type LeaveEventBody,
  type MemberView,
  type RoomRef,
  type Value,
} from "@rookery/protocol";
import { Emitter } from "./emitter";

/**
 * What a room definition's type tells a client (`typeof chessRoom`, made by
 * `defineRoom`), read from its type-only `~types` field: the client needs
 * the room's module as a type import only, never at run time. Without one
 * (`D = unknown`), any message, event, body and result is allowed.
 */
export type MessagesOf<D> = D extends { readonly "~types"?: { readonly messages: infer M } }
  ? M
  : Record<string, Value>;
/** The room's events plus the system events (`$join`, `$leave`, `$leader`). */
export type EventsOf<D> = (D extends { readonly "~types"?: { readonly events: infer E } }
  ? E
  : Record<string, Value>) & {
  $join: MemberView;
  $leave: LeaveEventBody;
  $leader: LeaderEventBody;
};
/** What each message's handler returns: the ack's result (`undefined` for none). */
export type ResultOf<D, T extends PropertyKey> = D extends {
  readonly "~types"?: { readonly results: infer R };
}
  ? T extends keyof R
    ? Exclude<R[T], void> | (void extends R[T] ? undefined : never)
    : Value | undefined
  : Value | undefined;
/** The body argument of `send`: optional where nil is a valid body. */
type BodyArg<B> = null extends B ? [body?: B] : [body: B];

/** One room event as the application sees it: each exactly once, in order. */
export interface RoomEventInfo {
  seq: number;
  type: string;
  body: Value;
}

export type RoomEvents = {
  /** Every event, application and system (`$join`, `$leave`, `$leader`), in seq order. */
  event: (event: RoomEventInfo) => void;
  /** The view was replaced (first join, or a resume too far behind): read `state` and `members`. */
  snapshot: (state: Value | undefined) => void;
  members: (members: readonly MemberView[]) => void;
  leader: (leader: string | null, previous: string | null) => void;
  /** The room was left: by `leave()` (`left`), or removed by the server (`kicked`, `closed`). */
  left: (reason: string) => void;
};

export const RoomStatus = { Joining: "joining", Joined: "joined", Left: "left" } as const;
export type RoomStatus = (typeof RoomStatus)[keyof typeof RoomStatus];

/** What a room needs from its client (kept narrow: the two files do not import each other). */
export interface RoomOwner {
  sendInput(room: Room, type: string, body: Value): Promise<Value | undefined>;
  leaveRoom(room: Room): Promise<void>;
}

/**
 * A joined room: its state as of the last snapshot, its members and leader
 * kept current from system events, and its event stream with duplicates
 * (resends around reconnects) removed by seq.
 */
export class Room<D = unknown> extends Emitter<RoomEvents> {
  status: RoomStatus = RoomStatus.Joining;
  /** Room epoch of the last `joined` (sent back when resuming). */
  epoch = 0;
  /** Seq of the last event applied (0 before the first `joined`). */
  seq = 0;
  #state: Value | undefined;
  #members: MemberView[] = [];
  #leader: string | null = null;
  /**
   * After the first `joined`, events wait one macrotask: `await join()`
   * resolves in a microtask, and the application attaches its listeners
   * there; events that came in the same socket read would otherwise be
   * emitted to nobody.
   */
  #held: RoomEventInfo[] | undefined;
  #release: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ref: RoomRef,
    private readonly owner: RoomOwner,
  ) {
    super();
  }

  get type(): string {
    return this.ref.type;
  }
  get id(): string {
    return this.ref.id;
  }
  /** The room's state as of the last snapshot (events after it are the application's to apply). */
  get state(): Value | undefined {
    return this.#state;
  }
  get members(): readonly MemberView[] {
    return this.#members;
  }
  get leader(): string | null {
    return this.#leader;
  }

  /**
   * Sends an input; resolves with the room's result once it took effect
   * (durable rooms: journaled). Typed by the room definition, if joined as
   * `join<typeof room>(…)`.
   */
  async send<T extends keyof MessagesOf<D> & string>(
    type: T,
    ...[body]: BodyArg<MessagesOf<D>[T]>
  ): Promise<ResultOf<D, T>> {
    const result = await this.owner.sendInput(this as Room, type, (body ?? null) as Value);
    return result as ResultOf<D, T>;
  }

  /** Calls `handler` for events of one type only. Returns the unsubscribe function. */
  onEvent<T extends keyof EventsOf<D> & string>(
    type: T,
    handler: (body: EventsOf<D>[T], event: RoomEventInfo) => void,
  ): () => void {
    return this.on("event", (e) => {
      if (e.type === type) handler(e.body as EventsOf<D>[T], e);
    });
  }

  leave(): Promise<void> {
    return this.owner.leaveRoom(this);
  }

  /** A `joined` (answer, resume or resynchronisation): replay or replace the view. */
  applyJoined(frame: JoinedFrame): void {
    const first = this.status === RoomStatus.Joining;
    this.status = RoomStatus.Joined;
    if (frame.mode === ResumeMode.Replay && !first) {
      for (const e of frame.replay ?? []) this.applyEvent({ ...e, room: frame.room, k: "event" });
    }
    this.epoch = frame.epoch;
    this.seq = frame.seq;
    this.#setMembers(frame.members);
    this.#setLeader(frame.leader);
    if (first) this.#hold();
    // Emitted last: a listener reads the new view (seq, epoch, members), not the old one.
    if (frame.mode !== ResumeMode.Replay || first) {
      this.#state = frame.state;
      this.emit("snapshot", frame.state);
    }
    // What the join itself sent this member (its onJoin): already in `state`, seqs at or below `seq`.
    for (const e of frame.events ?? []) this.#emitEvent(e);
  }

  /** An event: applied once; a seq at or below the last one is a duplicate. */
  applyEvent(frame: EventFrame): void {
    if (this.status !== RoomStatus.Joined || frame.seq <= this.seq) return;
    this.seq = frame.seq;
    if (frame.type === SystemEvent.Join) {
      const member = frame.body as unknown as MemberView;
      this.#setMembers([...this.#members.filter((m) => m.id !== member.id), member]);
    } else if (frame.type === SystemEvent.Leave) {
      const { id } = frame.body as unknown as LeaveEventBody;
      this.#setMembers(this.#members.filter((m) => m.id !== id));
    } else if (frame.type === SystemEvent.Leader) {
      this.#setLeader((frame.body as unknown as LeaderEventBody).id);
    }
    this.#emitEvent({ seq: frame.seq, type: frame.type, body: frame.body });
  }

  markLeft(reason: string): void {
    if (this.status === RoomStatus.Left) return;
    this.status = RoomStatus.Left;
    clearTimeout(this.#release);
    this.#held = undefined;
    this.emit("left", reason);
  }

  #hold(): void {
    this.#held = [];
    this.#release = setTimeout(() => {
      const held = this.#held ?? [];
      this.#held = undefined;
      for (const e of held) this.emit("event", e);
    }, 0);
  }

  #emitEvent(event: RoomEventInfo): void {
    if (this.#held) this.#held.push(event);
    else this.emit("event", event);
  }

  #setMembers(members: MemberView[]): void {
    this.#members = members;
    this.emit("members", members);
  }

  #setLeader(leader: string | null): void {
    if (leader === this.#leader) return;
    const previous = this.#leader;
    this.#leader = leader;
    this.emit("leader", leader, previous);
  }
}
