import { describe, expect, test } from "vitest";
import { RoomCore, type CoreEvent } from "@rookery/actors/internal";
import type { JournalEntry } from "@rookery/actors/internal";
import { flakyRoom, ledgerRoom } from "./fixtures/rooms";
import { memberInfo } from "./helpers";

const room = { type: "ledger", id: "r1" };
const alice = memberInfo("alice");
const bob = memberInfo("bob");

const entries: JournalEntry[] = [
  { k: "join", member: alice, at: 1000 },
  { k: "join", member: bob, at: 1001 },
  { k: "input", member: alice.id, seq: 1, type: "add", body: { n: 2, tag: "a1" }, at: 1002 },
  { k: "input", member: bob.id, seq: 1, type: "add", body: { n: 3, tag: "b1" }, at: 1003 },
  { k: "leave", member: alice.id, reason: "left", at: 1004 },
];

function run(core: RoomCore): CoreEvent[] {
  return entries.flatMap((e) => core.apply(e).events);
}

describe("room core", () => {
  test("room core - replaying the same entries gives the same state, events and leader", () => {
    const live = new RoomCore(ledgerRoom as never, room, null, 250);
    const replayed = new RoomCore(ledgerRoom as never, room, null, 250);
    expect(run(replayed)).toEqual(run(live));
    expect(replayed.state).toEqual(live.state);
    expect(live.state).toEqual({ applied: ["a1", "b1"], total: 5 });
    expect(live.leader).toBe(bob.id);
    expect(live.lastSeq(alice.id)).toBe(1);
  });

  test("room core - leader is the longest present member and moves on leave", () => {
    const core = new RoomCore(ledgerRoom as never, room, null, 250);
    const events = run(core).map((e) => e.type);
    expect(events).toEqual(["$join", "$leader", "$join", "total", "total", "$leave", "$leader"]);
    // Event seqs are contiguous from 1.
    const again = new RoomCore(ledgerRoom as never, room, null, 250);
    expect(run(again).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test("room core - a snapshot restores exactly where the room was", () => {
    const core = new RoomCore(ledgerRoom as never, room, null, 250);
    run(core);
    const restored = new RoomCore(ledgerRoom as never, room, core.snapshot(3, 42), 250);
    expect(restored.state).toEqual(core.state);
    expect(restored.members()).toEqual(core.members());
    expect(restored.seq).toBe(core.seq);
    expect(restored.lastSeq(bob.id)).toBe(1);
  });

  test("room core - a throwing handler, a rejected body and a non-member change nothing", () => {
    const core = new RoomCore(flakyRoom as never, { type: "flaky", id: "f" }, null, 250);
    core.apply({ k: "join", member: alice, at: 1 });
    const before = structuredClone({ state: core.state, seq: core.seq });
    expect(() =>
      core.apply({ k: "input", member: alice.id, seq: 1, type: "boom", body: null, at: 2 }),
    ).toThrow("handler bug");
    expect(() =>
      core.apply({ k: "input", member: alice.id, seq: 2, type: "nope", body: null, at: 3 }),
    ).toThrow(/unknown message type/);
    expect(() =>
      core.apply({ k: "input", member: bob.id, seq: 1, type: "inc", body: null, at: 4 }),
    ).toThrow(/not a member/);
    expect({ state: core.state, seq: core.seq }).toEqual(before);
    expect(core.lastSeq(alice.id)).toBe(0);
  });

  test("room core - replay skips entries a snapshot already holds", () => {
    const live = new RoomCore(ledgerRoom as never, room, null, 250);
    const journal = entries.map((e) => ({ ...e }));
    for (const e of journal.slice(0, 3)) live.apply(e);
    // A snapshot taken while entries 4 and 5 are still on their way to the journal.
    for (const e of journal.slice(3)) live.apply(e);
    const snapshot = live.snapshot(1, 0);
    const recovered = new RoomCore(ledgerRoom as never, room, snapshot, 250);
    for (const e of journal) if (!recovered.includes(e)) recovered.apply(e);
    expect(recovered.state).toEqual(live.state);
    expect(journal.map((e) => e.n)).toEqual([1, 2, 3, 4, 5]);
    // From an older snapshot, the later entries replay with their own numbers.
    const early = new RoomCore(ledgerRoom as never, room, null, 250);
    for (const e of journal.slice(0, 2)) early.apply({ ...e });
    const resumed = new RoomCore(ledgerRoom as never, room, early.snapshot(1, 0), 250);
    for (const e of journal) if (!resumed.includes(e)) resumed.apply(e);
    expect(resumed.state).toEqual(live.state);
    expect(resumed.seq).toBe(live.seq);
  });
});
