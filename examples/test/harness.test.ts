import { defineRoom } from "@rookery/actors";
import { describe, expect, it } from "vitest";
import { expectRejected, Rejected, RoomHarness, START } from "./harness";

type Counter = { n: number; log: string[] };

const counter = defineRoom<Counter, { add: { by: number }; bad: null; clock: null; map: null }>({
  type: "counter",
  initialState: () => ({ n: 0, log: [] }),
  onJoin(ctx, member) {
    ctx.state.log.push(`join ${member.id} leader=${ctx.leader}`);
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
  },
  onTimer(ctx, name) {
    ctx.state.log.push(`timer ${name} at ${ctx.now() - START}`);
  },
  validate: {
    add: (body): body is { by: number } => typeof (body as { by?: unknown })?.by === "number",
  },
});

describe("harness", () => {
  it("harness - a rejected handler keeps state, timers and events as they were", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    expect(room.send("a:1", "add", { by: 4 })).toBe(4);
    expectRejected(room, () => room.send("a:1", "add", { by: 9 }), /too much/);
    expect(room.state.n).toBe(4);
    expect(room.eventsOf("count").map((e) => e.body)).toEqual([4]);
    expectRejected(room, () => room.sendRaw("a:1", "add", { by: "x" }), /invalid add body/);
  });

  it("harness - members are oldest first and the longest present leads", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.advance(5);
    room.join("b:1");
    room.leave("a:1");
    expect(room.members.map((m) => [m.id, m.joinedAt])).toEqual([["b:1", START + 5]]);
    expect(room.state.log).toEqual([
      "join a:1 leader=null",
      "leader null->a:1",
      "join b:1 leader=a:1",
      "leader a:1->b:1",
    ]);
  });

  it("harness - timers fire at their due time", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    room.advance(3);
    room.send("a:1", "add", { by: 1 });
    room.advance(100);
    expect(room.state.log.at(-1)).toBe("timer t at 13");
    expect(room.now()).toBe(START + 103);
  });

  it("harness - non-plain state, Date.now and Math.random fail the handler", () => {
    const room = new RoomHarness(counter);
    room.join("a:1");
    expect(() => room.send("a:1", "bad", null)).toThrow(/not a plain object/);
    expect(() => room.send("a:1", "clock", null)).toThrow(/ctx.now/);
    expect(() => room.send("a:1", "map", null)).toThrow(/ctx.random/);
    expect(() => room.send("a:1", "bad", null)).not.toThrow(Rejected);
    expect(room.state).toEqual({ n: 0, log: ["join a:1 leader=null", "leader null->a:1"] });
    expect(Date.now()).toBeGreaterThan(0);
  });
});
