/**
 * Compile-time checks of the typed room API (issue 16), run by
 * `npm run typecheck` (tsconfig.json includes `examples`), never executed:
 * a typed client for tic-tac-toe, and `@ts-expect-error` lines proving that
 * a misspelt message, a wrong body, a misspelt event and a misspelt
 * `ctx.emit` fail to compile.
 */
import {
  defineRoom,
  int,
  isEmptyBody,
  message,
  shape,
  type RoomContext,
  type StandardSchemaV1,
} from "@rookery/actors";
import type { RookeryClient } from "@rookery/client";
import type { ticTacToeRoom, TicTacToeMark } from "../src/index";

export async function playOneMove(client: RookeryClient): Promise<void> {
  const room = await client.join<typeof ticTacToeRoom>("tictactoe", "t1");
  const result = await room.send("move", { cell: 4 });
  const status: "waiting" | "playing" | "over" = result.status;
  // @ts-expect-error the result is typed from the handler's return, not any
  const wrong: number = result.status;
  room.onEvent("move", ({ cell, mark }) => [cell.toFixed(), mark satisfies TicTacToeMark]);
  room.onEvent("gameOver", ({ winner, reason }) => [winner, reason satisfies string]);
  room.onEvent("$join", (member) => member.id.length);
  // @ts-expect-error a misspelt message name
  await room.send("mvoe", { cell: 4 });
  // @ts-expect-error a wrong body
  await room.send("move", { cell: "4" });
  // @ts-expect-error a missing body
  await room.send("move");
  // @ts-expect-error a misspelt event name
  room.onEvent("gameover", () => [status, wrong]);

  // Untyped, as before: any type, any Value.
  const untyped = await client.join("tictactoe", "t2");
  await untyped.send("anything", [1, "two"]);
  untyped.onEvent("whatever", (body) => body);
}

type State = { n: number; log: string[] };
type Events = { count: number; reset: null };
type Ctx = RoomContext<State, Events>;

/** A schema as zod, valibot or arktype make one: only `~standard` matters. */
declare const nameSchema: StandardSchemaV1<unknown, { name: string }>;

export const counter = defineRoom({
  type: "counter",
  events: {} as Events,
  initialState: (): State => ({ n: 0, log: [] }),
  onJoin(ctx, member) {
    ctx.emitTo(member.id, "count", ctx.state.n);
    // @ts-expect-error a misspelt event in onJoin
    ctx.emit("cuont", 1);
  },
  onMessage: {
    add: message(shape({ by: int({ min: 1 }) }), (ctx: Ctx, { by }) => {
      ctx.state.n += by;
      ctx.emit("count", ctx.state.n);
      // @ts-expect-error a misspelt event in a handler
      ctx.emit("conut", ctx.state.n);
      // @ts-expect-error a wrong event body
      ctx.emit("count", "one");
      return ctx.state.n;
    }),
    rename: message(nameSchema, (ctx: Ctx, { name }) => void ctx.state.log.push(name)),
    reset: message(isEmptyBody, (ctx: Ctx) => {
      ctx.state.n = 0;
      ctx.emit("reset");
    }),
    ping: (_ctx, body) => {
      // @ts-expect-error a body no validator checked is a Value, not what one hopes
      const n: number = body;
      return n;
    },
  },
});

export async function useCounter(client: RookeryClient): Promise<number> {
  const room = await client.join<typeof counter>("counter", "c1");
  await room.send("rename", { name: "x" });
  await room.send("reset");
  // @ts-expect-error rename takes a name
  await room.send("rename", { nom: "x" });
  // @ts-expect-error add's result is a number
  const text: string = await room.send("add", { by: 2 });
  return text.length + (await room.send("add", { by: 2 }));
}

// A Member is plain data: a room without an event map may emit it as it is.
defineRoom({
  type: "roster",
  initialState: (): { ids: string[] } => ({ ids: [] }),
  onJoin: (ctx, member) => ctx.emit("joined", member),
  onMessage: {},
});

// @ts-expect-error state must be plain data: no Map
defineRoom({ type: "maps", initialState: () => ({ m: new Map<string, number>() }), onMessage: {} });
// @ts-expect-error nor a Date
defineRoom({ type: "dates", initialState: () => ({ at: new Date() }), onMessage: {} });

// @ts-expect-error a hand-made entry whose handler takes a body its validator does not admit
defineRoom({
  type: "handmade",
  initialState: () => ({ n: 0 }),
  onMessage: {
    add: { body: int(), handle: (ctx: RoomContext<{ n: number }>, by: string) => void by },
  },
});
