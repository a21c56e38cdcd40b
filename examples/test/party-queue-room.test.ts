import type { Value } from "@rookery/protocol";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  PARTY_QUEUE_LIMITS,
  partyQueueRoom,
  type PartyQueueEvents,
  type PartyQueueMessages,
  type PartyQueueState,
} from "../src/index";
import { expectRejected, RoomHarness, START } from "@rookery/actors/testing";

const LEADER = "lea:1";
const GUEST = "gus:1";
const OTHER = "oli:1";

type Party = RoomHarness<PartyQueueState, PartyQueueMessages, PartyQueueEvents>;

function party(): Party {
  const room = new RoomHarness(partyQueueRoom, { id: "p1", traps: true });
  room.join(LEADER);
  room.join(GUEST);
  room.join(OTHER);
  return room;
}

const ids = (room: Party) => room.state.items.map((item) => item.id);

function add(room: Party, who: string, ...titles: string[]): void {
  for (const title of titles) room.send(who, "add", { title });
}

describe("party - adding", () => {
  it("party - add appends an item with a deterministic id and emits the queue", () => {
    const room = party();
    room.clearEvents();
    room.advance(1_000);
    expect(room.send(GUEST, "add", { title: "  Song 2 " })).toEqual({ id: "item-1" });
    expect(room.send(OTHER, "add", { title: "Creep" })).toEqual({ id: "item-2" });
    expect(room.state.items).toEqual([
      { id: "item-1", title: "Song 2", addedBy: GUEST, addedAt: START + 1_000 },
      { id: "item-2", title: "Creep", addedBy: OTHER, addedAt: START + 1_000 },
    ]);
    const queue = room.eventsOf("queue");
    expect(queue).toHaveLength(2);
    expect(queue.every((e) => e.to === null)).toBe(true);
    expect(queue[1]?.body).toEqual({
      items: room.state.items,
      nowPlaying: room.state.items[0],
    });
  });

  it("party - ids are never reused and the same inputs give the same ids", () => {
    const run = () => {
      const room = party();
      add(room, GUEST, "a", "b");
      room.send(GUEST, "remove", { id: "item-2" });
      add(room, OTHER, "c");
      room.checkReplay();
      return room;
    };
    const first = run();
    expect(ids(first)).toEqual(["item-1", "item-3"]);
    const second = run();
    expect(second.state).toEqual(first.state);
    expect(second.events).toEqual(first.events);
  });

  it("party - titles must be 1 to 200 characters after trimming", () => {
    const room = party();
    expectRejected(room, () => add(room, GUEST, ""), /title must be 1 to 200 characters/);
    expectRejected(room, () => add(room, GUEST, "   "), /title must be 1 to 200/);
    expectRejected(room, () => add(room, GUEST, "x".repeat(201)), /title must be 1 to 200/);
    add(room, GUEST, "x".repeat(200), ` ${"y".repeat(200)} `);
    // Characters are code points: 200 emoji (400 UTF-16 units) fit.
    add(room, GUEST, "🎵".repeat(200));
    expectRejected(room, () => add(room, GUEST, "🎵".repeat(201)), /title must be/);
    expect(room.state.items.map((item) => [...item.title].length)).toEqual([200, 200, 200]);
  });

  it("party - the queue holds at most 100 items", () => {
    const room = party();
    for (let i = 0; i < PARTY_QUEUE_LIMITS.maxItems; i++) add(room, GUEST, `t${i}`);
    expect(room.state.items).toHaveLength(100);
    expectRejected(room, () => add(room, OTHER, "one more"), /the queue is full \(100 items\)/);
    room.send(LEADER, "skip", {});
    add(room, OTHER, "one more");
    expect(room.state.items.at(-1)).toMatchObject({ id: "item-101", title: "one more" });
  });
});

describe("party - reordering and removing", () => {
  it("party - any member may move an item; indexes past the end mean last", () => {
    const room = party();
    add(room, LEADER, "a", "b", "c", "d");
    expect(room.send(OTHER, "move", { id: "item-4", to: 0 })).toEqual({ id: "item-4", index: 0 });
    expect(ids(room)).toEqual(["item-4", "item-1", "item-2", "item-3"]);
    expect(room.last("queue")?.body).toMatchObject({ nowPlaying: { id: "item-4" } });
    room.send(GUEST, "move", { id: "item-1", to: 2 });
    expect(ids(room)).toEqual(["item-4", "item-2", "item-1", "item-3"]);
    expect(room.send(GUEST, "move", { id: "item-4", to: 99 })).toEqual({
      id: "item-4",
      index: 3,
    });
    expect(ids(room)).toEqual(["item-2", "item-1", "item-3", "item-4"]);
  });

  it("party - moving an item to where it is emits nothing", () => {
    const room = party();
    add(room, LEADER, "a", "b");
    const count = room.events.length;
    room.send(GUEST, "move", { id: "item-2", to: 1 });
    expect(room.events).toHaveLength(count);
  });

  it("party - moving or removing an unknown item is rejected", () => {
    const room = party();
    add(room, LEADER, "a");
    expectRejected(room, () => room.send(GUEST, "move", { id: "item-9", to: 0 }), /no item item-9/);
    expectRejected(room, () => room.send(LEADER, "remove", { id: "item-9" }), /no item item-9/);
  });

  it("party - an item may be removed by its adder or the leader only", () => {
    const room = party();
    add(room, GUEST, "g1", "g2");
    add(room, OTHER, "o1");
    expectRejected(
      room,
      () => room.send(OTHER, "remove", { id: "item-1" }),
      /only the member who added an item or the leader may remove it/,
    );
    expect(room.send(GUEST, "remove", { id: "item-1" })).toEqual({ id: "item-1" });
    room.send(LEADER, "remove", { id: "item-3" });
    expect(ids(room)).toEqual(["item-2"]);
    expect(room.last("queue")?.body).toEqual({
      items: room.state.items,
      nowPlaying: room.state.items[0],
    });
  });
});

describe("party - skipping and leaders", () => {
  it("party - only the leader may skip the head item", () => {
    const room = party();
    expectRejected(room, () => room.send(LEADER, "skip", {}), /the queue is empty/);
    add(room, GUEST, "a", "b");
    expectRejected(room, () => room.send(GUEST, "skip", {}), /only the leader may skip/);
    expectRejected(room, () => room.send(OTHER, "skip", null), /only the leader may skip/);
    expect(room.send(LEADER, "skip", {})).toEqual({ skipped: "item-1", nowPlaying: "item-2" });
    expect(room.last("queue")?.body).toMatchObject({ nowPlaying: { id: "item-2" } });
    expect(room.send(LEADER, "skip", null)).toEqual({ skipped: "item-2", nowPlaying: null });
    expect(room.last("queue")?.body).toEqual({ items: [], nowPlaying: null });
  });

  it("party - a skip naming an item that is no longer playing is rejected", () => {
    const room = party();
    add(room, GUEST, "a", "b");
    room.send(LEADER, "skip", { id: "item-1" });
    expectRejected(room, () => room.send(LEADER, "skip", { id: "item-1" }), /no longer playing/);
    room.send(LEADER, "skip", { id: "item-2" });
    expect(room.state.items).toEqual([]);
  });

  it("party - the longest-present member leads, and the next one takes over", () => {
    const room = party();
    expect(room.leader).toBe(LEADER);
    expect(room.eventsOf("leader").map((e) => e.body)).toEqual([{ id: LEADER }]);
    add(room, GUEST, "a", "b");
    room.leave(LEADER);
    expect(room.leader).toBe(GUEST);
    expect(room.last("leader")?.body).toEqual({ id: GUEST });
    room.send(GUEST, "skip", {});
    expectRejected(room, () => room.send(OTHER, "skip", {}), /only the leader/);
    // The former leader comes back as the newest member: no longer leader.
    room.join(LEADER);
    expectRejected(room, () => room.send(LEADER, "skip", {}), /only the leader/);
    room.leave(GUEST);
    room.leave(OTHER);
    room.leave(LEADER);
    expect(room.last("leader")?.body).toEqual({ id: null });
    // Items outlive their adders.
    expect(ids(room)).toEqual(["item-2"]);
  });

  it("party - a joiner alone receives the current queue", () => {
    const room = party();
    add(room, GUEST, "a");
    room.clearEvents();
    room.join("new:1");
    const queue = room.eventsOf("queue");
    expect(queue).toHaveLength(1);
    expect(queue[0]?.to).toEqual(["new:1"]);
    expect(queue[0]?.body).toEqual({ items: room.state.items, nowPlaying: room.state.items[0] });
  });
});

describe("party - validation and state", () => {
  it("party - malformed bodies are rejected before the handler", () => {
    const room = party();
    add(room, GUEST, "a");
    const bad: [keyof PartyQueueMessages, Value][] = [
      ["add", null],
      ["add", {}],
      ["add", { title: 5 }],
      ["add", ["title"]],
      ["move", { id: "item-1" }],
      ["move", { id: "item-1", to: -1 }],
      ["move", { id: "item-1", to: 1.5 }],
      ["move", { id: "item-1", to: "0" }],
      ["move", { id: 1, to: 0 }],
      ["remove", {}],
      ["remove", { id: "" }],
      ["remove", { id: "x".repeat(65) }],
      ["skip", { id: 3 }],
      ["skip", "now"],
    ];
    for (const [type, body] of bad) {
      expectRejected(
        room,
        () => room.sendRaw(LEADER, type, body),
        new RegExp(`invalid ${type} body`),
      );
    }
    expectRejected(room, () => room.sendRaw(LEADER, "clear", {}), /unknown message type/);
    expectRejected(room, () => room.sendRaw(LEADER, "toString", {}), /unknown message type/);
  });

  it("party - the state is plain serializable data", () => {
    expectTypeOf<PartyQueueState>().toExtend<Value>();
    const room = party();
    add(room, GUEST, "a", "b");
    expect(JSON.parse(JSON.stringify(room.state))).toEqual(room.state);
    expect(partyQueueRoom).toMatchObject({ type: "party", durability: "durable" });
  });
});
