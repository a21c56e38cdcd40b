import { defineRoom, type Plain } from "@rookery/actors";
import {
  DeterminismError,
  expectRejected,
  InputRejectedError,
  RoomHarness,
  START,
} from "@rookery/actors/testing";
import { describe, expect, it } from "vitest";

type Counter = { n: number; log: string[] };

const counter = defineRoom<
  Counter,
  { add: { by: number }; bad: null; clock: null; map: null; roll: null; crash: null }
>({
  type: "counter",
  initialState: () => ({ n: 0, log: [] }),
  onJoin(ctx, member) {
    ctx.state.log.push(`join ${member.id} leader=${ctx.leader}`);
    ctx.emitTo(member.id, "hello", ctx.state.n);
  },
  onLeaderChange(ctx, leader, previous) {
    ctx.state.log.push(`leader ${previous}->${leader}`);
  },
  onMessage: {
    add(ctx, body) {
      ctx.state.n += body.by;
      ctx.emit("count", ctx.state.n);
      ctx.setTimer("t", 10);
      if (ctx.state.n > 10) ctx.reject("too much");
      return ctx.state.n;
    },
    bad(ctx) {
      (ctx.state as unknown as { when: Date }).when = new Date(0);
    },
    clock(ctx) {
      ctx.state.n = Date.now();
    },
    map(ctx) {
      ctx.state.log.push(String(Math.random()));
    },
    roll(ctx) {
      return Math.floor(ctx.random() * 1_000_000);
    },
    crash(ctx) {
      return (ctx.state as unknown as { missing: { by: number } }).missing.by;
    },
  },
  onTimer(ctx, name) {
    ctx.state.log.push(`timer ${name} at ${ctx.now() - START}`);
  },
  validate: {
    add: (body): body is { by: number } => typeof (body as { by?: unknown })?.by === "number",
  },
});

describe("testing harness", () => {
  it("harness - a rejected handler keeps state, timers and events as they were", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    expect(room.send("a:1", "add", { by: 4 })).toBe(4);
    expectRejected(room, () => room.send("a:1", "add", { by: 9 }), /too much/);
    expect(room.state.n).toBe(4);
    expect(room.eventsOf("count").map((e) => e.body)).toEqual([4]);
    expectRejected(room, () => room.sendRaw("a:1", "add", { by: "x" }), /invalid add body/);
    expectRejected(room, () => room.sendRaw("a:1", "nope", {}), /unknown message type/);
  });

  it("harness - inputs are answered as on the wire, and a resend gets the same answer", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    expect(room.input("a:1", "add", { by: 2 })).toEqual({ ok: true, result: 2 });
    expect(room.input("a:1", "add", { by: 20 })).toMatchObject({
      ok: false,
      code: "INPUT_REJECTED",
      message: "too much",
    });
    // Resends of seq 1 and 2 run nothing and get the remembered outcomes.
    expect(room.input("a:1", "add", { by: 2 }, { seq: 1 })).toEqual({ ok: true, result: 2 });
    expect(room.input("a:1", "add", { by: 2 }, { seq: 2 })).toEqual({
      ok: false,
      code: "INPUT_REJECTED",
      message: "too much",
    });
    expect(room.state.n).toBe(2);
    expect(room.input("b:1", "add", { by: 1 })).toMatchObject({ ok: false, code: "NOT_JOINED" });
    // A bug in room code is rethrown by send, and answered INPUT_REJECTED on the wire.
    expect(() => room.send("a:1", "crash", null)).toThrow(TypeError);
    expect(room.input("a:1", "crash", null)).toMatchObject({ ok: false, code: "INPUT_REJECTED" });
    room.checkReplay();
  });

  it("harness - members are oldest first and the longest present leads", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.advance(5);
    room.join("b:1");
    room.leave("a:1");
    expect(room.members.map((m) => [m.id, m.joinedAt])).toEqual([["b:1", START + 5]]);
    expect(room.leader).toBe("b:1");
    expect(room.state.log).toEqual([
      "join a:1 leader=null",
      "leader null->a:1",
      "join b:1 leader=a:1",
      "leader a:1->b:1",
    ]);
  });

  it("harness - each member sees broadcasts and its own events while present", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.send("a:1", "add", { by: 1 });
    room.join("b:1");
    const types = (id: string) => room.eventsFor(id).map((e) => e.type);
    expect(types("a:1")).toEqual(["hello", "$join", "$leader", "count", "$join"]);
    expect(types("b:1")).toEqual(["hello", "$join"]);
    expect(room.eventsFor("b:1")[0]).toMatchObject({ body: 1, to: ["b:1"] });
    expect(room.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("harness - timers fire at their due time", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.advance(3);
    room.send("a:1", "add", { by: 1 });
    room.advance(100);
    expect(room.state.log.at(-1)).toBe("timer t at 13");
    expect(room.now()).toBe(START + 103);
    expect(room.timers).toEqual({});
  });

  it("harness - ticks run every tickMs, between timers in time order", () => {
    const ticking = defineRoom<{ log: string[] }, { arm: null }>({
      type: "ticking",
      tickMs: 100,
      initialState: () => ({ log: [] }),
      onMessage: { arm: (ctx) => ctx.setTimer("x", 150) },
      onTick: (ctx) => void ctx.state.log.push(`tick ${ctx.now() - START}`),
      onTimer: (ctx, name) => void ctx.state.log.push(`${name} ${ctx.now() - START}`),
    });
    const room = new RoomHarness(ticking);
    room.join("a:1");
    room.send("a:1", "arm", null);
    room.advance(250);
    expect(room.state.log).toEqual(["tick 100", "x 150", "tick 200"]);
  });

  it("harness - ctx.random is the node's seeded generator, carried by snapshots", () => {
    const a = new RoomHarness(counter, { id: "r1" });
    const b = new RoomHarness(counter, { id: "r1" });
    const c = new RoomHarness(counter, { id: "r2" });
    for (const room of [a, b, c]) room.join("a:1");
    const rollA = a.send("a:1", "roll", null);
    expect(b.send("a:1", "roll", null)).toBe(rollA);
    expect(c.send("a:1", "roll", null)).not.toBe(rollA);
    const resumed = a.restart(1_000);
    expect(resumed.send("a:1", "roll", null)).toBe(a.send("a:1", "roll", null));
  });

  it("harness - snapshot/restart keeps state, members, timers and dedupe windows", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.send("a:1", "add", { by: 3 });
    const resumed = room.restart(4);
    expect(resumed.now()).toBe(START + 4);
    expect(resumed.state).toEqual(room.state);
    expect(resumed.members).toEqual(room.members);
    expect(resumed.timers).toEqual({ t: START + 10 });
    expect(resumed.input("a:1", "add", { by: 3 }, { seq: 1 })).toEqual({ ok: true, result: 3 });
    resumed.advance(10);
    expect(resumed.state.log.at(-1)).toBe("timer t at 10");
    resumed.checkReplay();
  });

  it("harness - the journal replays to the same room on a fresh core", () => {
    const room = new RoomHarness(counter, { traps: true });
    room.join("a:1");
    room.join("b:1");
    room.send("a:1", "add", { by: 3 });
    expectRejected(room, () => room.send("b:1", "add", { by: 30 }));
    room.advance(50);
    room.leave("a:1");
    room.clearEvents();
    room.checkReplay();
    expect(room.journal.map((e) => e.k)).toEqual([
      "join",
      "join",
      "input",
      "reject",
      "timer",
      "leave",
    ]);
    // A handler that is not deterministic fails the check.
    let flip = 0;
    const flaky = defineRoom<{ n: number }, { go: null }>({
      type: "flaky",
      initialState: () => ({ n: 0 }),
      onMessage: { go: (ctx) => void (ctx.state.n = flip++) },
    });
    const bad = new RoomHarness(flaky);
    bad.join("a:1");
    bad.send("a:1", "go", null);
    expect(() => bad.checkReplay()).toThrow(/replay diverged/);
  });

  it("harness - with traps, non-plain state, Date.now and Math.random fail the handler", () => {
    const room = new RoomHarness(counter, { traps: true });
    room.join("a:1");
    expect(() => room.send("a:1", "bad", null)).toThrow(/not a plain object/);
    expect(() => room.send("a:1", "clock", null)).toThrow(/ctx.now/);
    expect(() => room.send("a:1", "map", null)).toThrow(/ctx.random/);
    expect(() => room.send("a:1", "bad", null)).toThrow(DeterminismError);
    expect(() => room.send("a:1", "bad", null)).not.toThrow(InputRejectedError);
    expect(room.state).toEqual({ n: 0, log: ["join a:1 leader=null", "leader null->a:1"] });
    expect(Date.now()).toBeGreaterThan(0);
    expect(Math.random()).toBeLessThan(1);
    // Without traps the same handlers run (as on a node).
    const lax = new RoomHarness(counter);
    lax.join("a:1");
    expect(() => lax.send("a:1", "map", null)).not.toThrow();
  });

  it("harness - with traps, Maps and functions in state are refused", () => {
    const room = new RoomHarness(
      defineRoom<{ v: Plain }, { map: null; fn: null }>({
        type: "shapes",
        initialState: () => ({ v: null }),
        onMessage: {
          map(ctx) {
            // @ts-expect-error a Map is not plain data: only untyped code gets here
            ctx.state.v = new Map();
          },
          fn(ctx) {
            // @ts-expect-error nor is a function
            ctx.state.v = () => 1;
          },
        },
      }),
      { traps: true },
    );
    room.join("a:1");
    expect(() => room.send("a:1", "map", null)).toThrow(/state.v is a Map, not a plain object/);
    expect(() => room.send("a:1", "fn", null)).toThrow(/state.v is a function/);
    expect(room.state).toEqual({ v: null });
  });
});
