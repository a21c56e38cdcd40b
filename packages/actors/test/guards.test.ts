import {
  arrayOf,
  bool,
  defineRoom,
  int,
  isEmptyBody,
  isMap,
  isRoom,
  message,
  num,
  oneOf,
  optional,
  shape,
  text,
  type StandardSchemaV1,
} from "@rookery/actors";
import { ActorHost, MemoryCluster } from "@rookery/actors/internal";
import { expectRejected, RoomHarness } from "@rookery/actors/testing";
import type { Value } from "@rookery/protocol";
import { InternalKind } from "@rookery/protocol/internal";
import { pino } from "pino";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { expectKind, memberInfo } from "./helpers";

describe("body guards", () => {
  it("guards - isMap and isEmptyBody accept maps (and nil) only", () => {
    expect([{}, { a: 1 }].every(isMap)).toBe(true);
    expect([null, [], new Uint8Array(1), "x", 1].some(isMap)).toBe(false);
    expect([null, {}, { a: 1 }].every(isEmptyBody)).toBe(true);
    expect([[], "x", 0, false].some(isEmptyBody)).toBe(false);
  });

  it("guards - scalars check type and range", () => {
    expect([0, 8].every(int({ min: 0, max: 8 }))).toBe(true);
    expect([-1, 9, 1.5, "4", Number.NaN, null].some(int({ min: 0, max: 8 }))).toBe(false);
    expect(num({ max: 1 })(0.5)).toBe(true);
    expect([Infinity, 2, "1"].some(num({ max: 1 }))).toBe(false);
    expect(text({ min: 1, max: 2 })("🎵🎵")).toBe(true); // code points
    expect(["", "abc", 3].some(text({ min: 1, max: 2 }))).toBe(false);
    expect(text({ pattern: /^[a-h][1-8]$/ })("e9")).toBe(false);
    expect(bool(false) && !bool(0)).toBe(true);
    expect(oneOf("q", "r")("q") && !oneOf("q", "r")("k")).toBe(true);
    expect(arrayOf(int(), { max: 2 })([1, 2])).toBe(true);
    expect([[1, 2, 3], [1, "2"], {}].some(arrayOf(int(), { max: 2 }))).toBe(false);
  });

  it("guards - shape checks listed fields, optional ones may be absent or nil", () => {
    const move = shape({ from: text(), to: text(), promotion: optional(oneOf("q", "n")) });
    expect(move({ from: "e7", to: "e8" })).toBe(true);
    expect(move({ from: "e7", to: "e8", promotion: null, extra: 1 })).toBe(true);
    expect(move({ from: "e7", to: "e8", promotion: "k" })).toBe(false);
    expect([{ from: "e7" }, null, [], "e7e8"].some(move)).toBe(false);
    // Inherited properties are not fields.
    expect(shape({ toString: optional(int()) })({})).toBe(true);
    const body: unknown = { from: "a", to: "b" };
    if (move(body)) {
      expectTypeOf(body).toEqualTypeOf<
        { from: string; to: string } & { promotion?: "q" | "n" | null }
      >();
    }
  });

  it("guards - a shape is a room's validate entry, typed like the body", () => {
    type Messages = {
      move: { cell: number; note?: string | null };
      resign: { [k: string]: Value } | null;
    };
    const room = defineRoom<{ n: number }, Messages>({
      type: "g",
      initialState: () => ({ n: 0 }),
      onMessage: { move: (ctx, body) => void (ctx.state.n = body.cell), resign: () => undefined },
      validate: {
        move: shape({ cell: int({ min: 0, max: 8 }), note: optional(text({ max: 10 })) }),
        resign: isEmptyBody,
      },
    });
    expect(room.validate?.move?.({ cell: 3 })).toBe(true);
    expect(room.validate?.move?.({ cell: 3, note: 5 })).toBe(false);
  });
});

/** A minimal Standard Schema v1 (what zod, valibot and arktype expose): a name, trimmed. */
function nameSchema(async = false): StandardSchemaV1<unknown, { name: string }> {
  const validate = (value: unknown) => {
    const name = isMap(value) ? value.name : undefined;
    const result =
      typeof name === "string"
        ? { value: { name: name.trim() } }
        : { issues: [{ message: "Expected string", path: [{ key: "name" }] }] };
    return async ? Promise.resolve(result) : result;
  };
  return { "~standard": { version: 1, vendor: "test", validate } };
}

describe("message validators", () => {
  const room = () => {
    const definition = defineRoom({
      type: "v",
      initialState: (): { n: number; names: string[] } => ({ n: 0, names: [] }),
      onMessage: {
        add: message(shape({ by: int({ min: 1, max: 9 }) }), (ctx, { by }) => {
          ctx.state.n += by;
          return ctx.state.n;
        }),
        boom: message(
          (body: unknown): body is null => {
            throw new Error(`guard bug on ${String(body)}`);
          },
          (ctx) => void (ctx.state.n = -1),
        ),
        name: message(nameSchema(), (ctx, { name }) => void ctx.state.names.push(name)),
        later: message(nameSchema(true), (ctx) => void (ctx.state.n = -1)),
        any: (ctx, body) => body,
      },
    });
    const harness = new RoomHarness(definition, { traps: true });
    harness.join("a:1");
    return harness;
  };

  it("rooms - message(): the guard's type is the handler's body; a failing or throwing guard rejects 'invalid <type> body' and changes nothing", () => {
    const r = room();
    expect(r.send("a:1", "add", { by: 2 })).toBe(2);
    const before = structuredClone(r.state);
    expectRejected(r, () => r.sendRaw("a:1", "add", { by: 10 }), /^invalid add body$/);
    const outcome = r.input("a:1", "boom", null);
    expect(outcome).toMatchObject({
      ok: false,
      code: "INPUT_REJECTED",
      message: "invalid boom body",
    });
    expect(((outcome as { error?: Error }).error?.cause as Error).message).toMatch(/guard bug/);
    expect(r.state).toEqual(before);
    expect(r.send("a:1", "any", [1, "x"])).toEqual([1, "x"]);
    r.checkReplay();
  });

  it("rooms - a Standard Schema validates: its output reaches the handler, its issues follow the rejection, an async one is refused", () => {
    const r = room();
    r.send("a:1", "name", { name: "  ada " });
    expect(r.state.names).toEqual(["ada"]);
    expectRejected(
      r,
      () => r.sendRaw("a:1", "name", { name: 3 }),
      /^invalid name body: name: Expected string$/,
    );
    expectRejected(
      r,
      () => r.sendRaw("a:1", "later", { name: "x" }),
      /invalid later body: its validator is asynchronous/,
    );
    expect(r.state).toEqual({ n: 0, names: ["ada"] });
    r.checkReplay();
  });

  it("rooms - the older validate map: a throwing guard rejects 'invalid <type> body' too", () => {
    const legacy = defineRoom<{ n: number }, { add: { by: number } }>({
      type: "legacy",
      initialState: () => ({ n: 0 }),
      onMessage: { add: (ctx, body) => void (ctx.state.n += body.by) },
      validate: {
        add: (body): body is { by: number } => (body as { by: number }).by.toFixed() !== "",
      },
    });
    const r = new RoomHarness(legacy);
    r.join("a:1");
    expectRejected(r, () => r.sendRaw("a:1", "add", null), /^invalid add body$/);
    r.send("a:1", "add", { by: 3 });
    expect(r.state.n).toBe(3);
  });

  it("rooms - defineRoom brands its result; a copy keeps the brand, a look-alike has none", () => {
    const made = defineRoom({ type: "b", initialState: () => ({}), onMessage: {} });
    expect(isRoom(made)).toBe(true);
    expect(isRoom({ ...made, type: "c" })).toBe(true);
    expect(isRoom({ type: "d", initialState: () => ({}), onMessage: {} })).toBe(false);
    expect([null, "x", 1].some(isRoom)).toBe(false);
  });
});

describe("message validators with a real library and a real log", () => {
  const move = z.object({
    cell: z.number().int().min(0).max(8),
    note: z.string().max(10).optional(),
  });

  const zodRoom = () =>
    defineRoom({
      type: "z",
      initialState: (): { cells: number[]; notes: string[] } => ({ cells: [], notes: [] }),
      onMessage: {
        move: message(move, (ctx, body) => {
          expectTypeOf(body).toEqualTypeOf<{ cell: number; note?: string | undefined }>();
          ctx.state.cells.push(body.cell);
          if (body.note !== undefined) ctx.state.notes.push(body.note);
          return ctx.state.cells.length;
        }),
        bug: message(isEmptyBody, () => {
          throw new Error("handler bug");
        }),
      },
    });

  it("rooms - a zod schema (Standard Schema v1) is a message validator: valid bodies typed and applied, invalid ones rejected with its issues", () => {
    expect(move["~standard"].version).toBe(1);
    const r = new RoomHarness(zodRoom(), { traps: true });
    r.join("a:1");
    expect(r.send("a:1", "move", { cell: 4, note: "centre" })).toBe(1);
    const before = structuredClone(r.state);
    expectRejected(r, () => r.sendRaw("a:1", "move", { cell: 9 }), /^invalid move body: cell: /);
    expectRejected(r, () => r.sendRaw("a:1", "move", { cell: "4" }), /^invalid move body: cell: /);
    expectRejected(r, () => r.sendRaw("a:1", "move", null), /^invalid move body: /);
    expect(r.input("a:1", "move", { cell: 1.5 })).toMatchObject({
      ok: false,
      code: "INPUT_REJECTED",
    });
    expect(r.state).toEqual(before);
    expect(r.send("a:1", "move", { cell: 0 })).toBe(2);
    expect(r.state).toEqual({ cells: [4, 0], notes: ["centre"] });
    r.checkReplay();
  });

  it("rooms - a rejected body logs no 'room handler failed' line (a handler bug does)", async () => {
    const lines: { msg?: string; err?: string }[] = [];
    const log = pino(
      { level: "debug" },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    );
    const cluster = new MemoryCluster();
    const gateway = cluster.join("gw", { role: "gateway" });
    const host = new ActorHost(cluster.join("n1"), [zodRoom()] as never, { idleMs: 0 }, log);
    await host.start();
    try {
      const actor = (await host.activate("z", "r1"))!;
      const alice = memberInfo("alice", gateway.id, gateway.epoch);
      expectKind(await actor.request({ k: InternalKind.Join, member: alice }), InternalKind.Joined);
      const send = (seq: number, type: string, body: Value) =>
        actor.request({ k: InternalKind.Input, member: alice.id, seq, type, body });
      const rejected = await send(1, "move", { cell: 42 });
      expect(rejected).toMatchObject({ k: InternalKind.Err, code: "INPUT_REJECTED" });
      expect(lines.filter((l) => l.msg === "room handler failed")).toEqual([]);
      await send(2, "bug", null);
      expect(lines.filter((l) => l.msg === "room handler failed")).toMatchObject([
        { err: "Error: handler bug" },
      ]);
    } finally {
      await host.stop();
    }
  });
});
