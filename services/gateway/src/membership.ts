import {
  decodeServerFrame,
  LeaveReason,
  ServerKind,
  SystemEvent,
  type LeaveEventBody,
  type RoomRef,
} from "@rookery/protocol";
import type { RoomEvent } from "@rookery/protocol/internal";

/** One room event as fanned out: the same bytes (encoded once, by the room actor) to every socket. */
export type Delivery = Pick<RoomEvent, "epoch" | "seq" | "to" | "frame" | "type">;

/** What a membership needs from the connection that owns it. */
export interface MembershipOwner {
  readonly memberId: string;
  sendEncoded(bytes: Uint8Array, kind: ServerKind): void;
  /** The room's stream had a gap: bring this member up to date with a resume join. */
  resync(membership: Membership): void;
}

export const MembershipState = {
  /** The join is on its way; events are held until its reply says where the view starts. */
  Joining: "joining",
  Joined: "joined",
  /** A resume join after a gap; events are held as while joining. */
  Resyncing: "resyncing",
  /** A leave is on its way: no more inputs, no more events. */
  Leaving: "leaving",
  Gone: "gone",
} as const;
export type MembershipState = (typeof MembershipState)[keyof typeof MembershipState];

const IDLE = Promise.resolve();

/** Events held while joining beyond this are dropped and replaced by a resync. */
const MAX_HELD = 1024;
/** What a membership holds once more events came than are kept: never added to. */
const OVERFLOWED: Delivery[] = [];

/**
 * One connection's membership in one room: the view it has been given
 * (`epoch`, `seq`), the events held while a join is in flight, and a lane
 * that forwards the connection's requests for the room strictly one after
 * another, so the room applies a connection's inputs in the order sent
 * (docs/protocol.md §6), and keeps most of them inside its dedupe window:
 * only an input overtaken on the way can fall below the window's floor.
 */
export class Membership {
  state: MembershipState = MembershipState.Joining;
  epoch = 0;
  seq = 0;
  /** Events held while joining; OVERFLOWED once more came than are kept (a resync follows). */
  #held: Delivery[] | undefined;
  /** The last task queued, until it is done: an idle member holds no promise (memory per client). */
  #lane: Promise<void> | undefined;

  /** `after`: what this connection must have finished with the room first (a failed join's cleanup). */
  constructor(
    readonly room: RoomRef,
    readonly owner: MembershipOwner,
    after?: Promise<void>,
  ) {
    this.#lane = after;
  }

  get active(): boolean {
    return this.state !== MembershipState.Leaving && this.state !== MembershipState.Gone;
  }

  /** Runs `task` after every task queued before it; `onError` handles what it throws. */
  run(task: () => Promise<void>, onError: (error: unknown) => void): void {
    const done = () => {
      if (this.#lane === lane) this.#lane = undefined;
    };
    const lane: Promise<void> = (this.#lane ?? IDLE).then(task).then(done, (error: unknown) => {
      onError(error);
      done();
    });
    this.#lane = lane;
  }

  offer(delivery: Delivery): void {
    switch (this.state) {
      case MembershipState.Joined:
        return this.deliver(delivery);
      case MembershipState.Joining:
      case MembershipState.Resyncing:
        return this.hold(delivery);
      default:
        return;
    }
  }

  /** The join (or resync) reply was sent: the view is as of `seq`; release what was held after it. */
  accept(epoch: number, seq: number): void {
    this.state = MembershipState.Joined;
    this.epoch = epoch;
    this.seq = seq;
    const held = this.#held ?? [];
    this.#held = undefined;
    if (held === OVERFLOWED) return this.resync();
    for (const delivery of held) this.deliver(delivery);
  }

  /** The room's stream had a gap: hold events from now, and ask for a resume join. */
  resync(): void {
    if (this.state !== MembershipState.Joined) return;
    this.state = MembershipState.Resyncing;
    this.owner.resync(this);
  }

  // Private methods are TypeScript's, not #: with # methods every instance
  // carries a brand slot (8 B per membership).
  private deliver(d: Delivery): void {
    if (d.epoch === this.epoch && d.seq <= this.seq) return;
    this.epoch = d.epoch;
    this.seq = d.seq;
    if (d.to && !d.to.includes(this.owner.memberId)) return;
    this.owner.sendEncoded(d.frame, ServerKind.Event);
    if (d.type === SystemEvent.Leave && this.dropsLiveMember(d.frame)) this.resync();
  }

  /**
   * The room dropped this member as disconnected (or its gateway as lost)
   * while this connection lives and holds the membership: a leave the
   * gateway gave up on (outcome unknown) reached the room after a later join
   * of the same connection. The member resumed, so it stays in (protocol.md
   * §5): a resume join puts it back, and the client gets the view as on any
   * resync. Only `$leave` frames are decoded (a few per room, not per input).
   */
  private dropsLiveMember(frame: Uint8Array): boolean {
    if (this.state !== MembershipState.Joined) return false;
    const decoded = decodeServerFrame(frame);
    if (!decoded.ok || decoded.frame.k !== ServerKind.Event) return false;
    const { id, reason } = decoded.frame.body as unknown as LeaveEventBody;
    return (
      id === this.owner.memberId &&
      (reason === LeaveReason.Disconnected || reason === LeaveReason.GatewayLost)
    );
  }

  private hold(d: Delivery): void {
    const held = (this.#held ??= []);
    if (held === OVERFLOWED) return;
    if (held.length < MAX_HELD) held.push(d);
    else this.#held = OVERFLOWED;
  }
}
