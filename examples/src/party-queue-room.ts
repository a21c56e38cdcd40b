/**
 * The "party" example room: a shared queue (songs, climbs, turns…) that any
 * member can add to and reorder, with the room leader as moderator. The head
 * of the queue is what is playing now.
 */
import {
  defineRoom,
  Durability,
  int,
  isMap,
  message,
  optional,
  shape,
  text,
  type RoomContext,
} from "@rookery/actors";

/** Limits the room enforces (inputs beyond them are rejected). */
export const PARTY_QUEUE_LIMITS = Object.freeze({
  /** Items in the queue, including the one playing. */
  maxItems: 100,
  /** Title length in characters (Unicode code points), after trimming. */
  maxTitleLength: 200,
});

export type PartyQueueItem = {
  /** Deterministic id (`item-1`, `item-2`, …), never reused within a room. */
  id: string;
  title: string;
  /** Member id of the adder. */
  addedBy: string;
  /** Room time (ms) the item was added. */
  addedAt: number;
};

export type PartyQueueState = {
  /** The queue, head first; the head is playing now. */
  items: PartyQueueItem[];
  /** Number of the next item id. */
  nextId: number;
};

/** `{}`, `{id}` or nil (a missing body reads as nil). */
export type PartyQueueSkipBody = {
  /** If given, skip only if this item is still the head (guards against double skips). */
  id?: string | null;
} | null;

export type PartyQueueMessages = {
  /** Appends an item; the ack result is `{id}`. */
  add: { title: string };
  /** Moves item `id` to index `to` (0 = head; past the end = last). Any member. */
  move: { id: string; to: number };
  /** Removes an item: its adder or the leader. */
  remove: { id: string };
  /** Drops the head item: the leader only. */
  skip: PartyQueueSkipBody;
};

/** The body of the `queue` event. */
export type PartyQueueView = { items: PartyQueueItem[]; nowPlaying: PartyQueueItem | null };

export type PartyQueueEvents = {
  /** The whole queue, after every change and to each joiner. */
  queue: PartyQueueView;
  /** The leader (moderator) changed. */
  leader: { id: string | null };
};

type Ctx = RoomContext<PartyQueueState, PartyQueueEvents>;

// No copy here: `emit` copies the body it is given (docs/rooms.md), so the
// handler may keep changing the state it emitted.
function view(state: PartyQueueState): PartyQueueView {
  return { items: state.items, nowPlaying: state.items[0] ?? null };
}

function changed(ctx: Ctx): void {
  ctx.emit("queue", view(ctx.state));
}

function indexOf(ctx: Ctx, id: string): number {
  const index = ctx.state.items.findIndex((item) => item.id === id);
  return index >= 0 ? index : ctx.reject(`no item ${id} in the queue`);
}

const isId = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= 64;
const isSkip = (body: unknown): body is PartyQueueSkipBody =>
  body === null || (isMap(body) && optional(isId)(body.id));

/**
 * The shipped party queue room (type "party", durable). Emits `queue
 * {items, nowPlaying}` after every change (and to each joiner), and `leader
 * {id}` when the leader changes.
 */
export const partyQueueRoom = defineRoom({
  type: "party",
  durability: Durability.Durable,
  events: {} as PartyQueueEvents,

  initialState: (): PartyQueueState => ({ items: [], nextId: 1 }),

  onJoin(ctx, member) {
    ctx.emitTo(member.id, "queue", view(ctx.state));
  },

  onLeaderChange(ctx, leader) {
    ctx.emit("leader", { id: leader });
  },

  onMessage: {
    add: message(shape({ title: text() }), (ctx: Ctx, body, sender) => {
      const state = ctx.state;
      const title = body.title.trim();
      const length = [...title].length;
      if (length < 1 || length > PARTY_QUEUE_LIMITS.maxTitleLength) {
        ctx.reject(`title must be 1 to ${PARTY_QUEUE_LIMITS.maxTitleLength} characters`);
      }
      if (state.items.length >= PARTY_QUEUE_LIMITS.maxItems) {
        ctx.reject(`the queue is full (${PARTY_QUEUE_LIMITS.maxItems} items)`);
      }
      const id = `item-${state.nextId}`;
      state.nextId += 1;
      state.items.push({ id, title, addedBy: sender.id, addedAt: ctx.now() });
      changed(ctx);
      return { id };
    }),

    move: message(shape({ id: isId, to: int({ min: 0 }) }), (ctx: Ctx, body) => {
      const items = ctx.state.items;
      const from = indexOf(ctx, body.id);
      const to = Math.min(body.to, items.length - 1);
      if (from !== to) {
        const [item] = items.splice(from, 1);
        if (item) items.splice(to, 0, item);
        changed(ctx);
      }
      return { id: body.id, index: to };
    }),

    remove: message(shape({ id: isId }), (ctx: Ctx, body, sender) => {
      const items = ctx.state.items;
      const index = indexOf(ctx, body.id);
      if (items[index]?.addedBy !== sender.id && ctx.leader !== sender.id) {
        ctx.reject("only the member who added an item or the leader may remove it");
      }
      items.splice(index, 1);
      changed(ctx);
      return { id: body.id };
    }),

    skip: message(isSkip, (ctx: Ctx, body, sender) => {
      const items = ctx.state.items;
      if (ctx.leader !== sender.id) ctx.reject("only the leader may skip");
      const head = items[0];
      if (!head) return ctx.reject("the queue is empty");
      const expected = body?.id ?? null;
      if (expected !== null && expected !== head.id) {
        ctx.reject(`${expected} is no longer playing`);
      }
      items.shift();
      changed(ctx);
      return { skipped: head.id, nowPlaying: items[0]?.id ?? null };
    }),
  },
});
