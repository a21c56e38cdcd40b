import { ResumeMode, type Value } from "@rookery/protocol";
import { InternalKind, type RoomJoinRequest, type RoomReply } from "@rookery/protocol/internal";
import type { RoomDefinition } from "./room";
import type { CoreEvent, RoomCore } from "./room-core";
import { runHandler } from "./sandbox";

/** What a join's answer is made of, as of the moment the join is applied. */
export interface JoinViewSource {
  core: RoomCore;
  epoch: number;
  /**
   * Every event the room still holds, oldest first, up to `core.seq`:
   * published ones (the replay buffer) and those whose entries are still
   * committing, the join's own included.
   */
  buffered: CoreEvent[];
  /** The events applying this join produced (onJoin's, `$join`, `$leader`). */
  joinEvents: readonly CoreEvent[];
  /** The state as this member may see it; undefined withholds it. */
  stateFor: (memberId: string) => Value | undefined;
}

/**
 * The join's answer: the events since the member's `since` when the room
 * still holds them all (same history), else a snapshot. Unpublished events
 * count as history: the gateway drops them when they are published, since
 * they are at or below the `joined` seq.
 */
export function joinedReply(request: RoomJoinRequest, source: JoinViewSource): RoomReply {
  const { core, epoch, buffered } = source;
  const base = {
    k: InternalKind.Joined,
    epoch,
    seq: core.seq,
    members: core.members(),
    leader: core.leader,
  };
  const since = request.since;
  const first = buffered[0]?.seq ?? core.seq + 1;
  // Events of another epoch are not comparable by seq: a re-activated room
  // may differ from what the member saw (protocol.md §8), so it resyncs.
  const sameHistory = request.epoch === epoch;
  if (since !== undefined && sameHistory && since >= first - 1 && since <= core.seq) {
    const replay = buffered
      .filter((e) => e.seq > since && (!e.to || e.to.includes(request.member.id)))
      .map((e) => ({ seq: e.seq, type: e.type, body: e.body }));
    return { ...base, mode: ResumeMode.Replay, replay };
  }
  const state = source.stateFor(request.member.id);
  const view: RoomReply =
    state === undefined
      ? { ...base, mode: ResumeMode.Snapshot }
      : { ...base, mode: ResumeMode.Snapshot, state };
  // What the join itself sent the joiner (its onJoin): at or below `seq`, so
  // the event stream would never deliver it; it rides along with the view.
  const own = source.joinEvents
    .filter((e) => !e.type.startsWith("$") && (!e.to || e.to.includes(request.member.id)))
    .map((e) => ({ seq: e.seq, type: e.type, body: e.body }));
  return own.length > 0 ? { ...view, events: own } : view;
}

/**
 * The state as this member may see it (the room type's `visibleState`, if
 * any). A filter that fails hides the whole state rather than leak it:
 * `onFailure` hears why, and undefined is returned.
 */
export function visibleState(
  definition: RoomDefinition<unknown, Record<string, Value>>,
  core: RoomCore,
  memberId: string,
  budgetMs: number,
  onFailure: (error: unknown) => void,
): Value | undefined {
  const state = core.state;
  const filter = definition.visibleState;
  const member = core.members().find((m) => m.id === memberId);
  if (!filter || !member) return state as Value;
  try {
    return runHandler(definition, () => filter(state, member), budgetMs);
  } catch (error) {
    onFailure(error);
    return undefined;
  }
}
