import type { Value } from "@rookery/protocol";
import { expectRejected, RoomHarness, START } from "@rookery/actors/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  createTicTacToeRoom,
  ticTacToeRoom,
  type TicTacToeEvents,
  type TicTacToeState,
} from "../src/index";

const X = "xena:1";
const O = "otto:1";
const SPECTATOR = "sam:1";
const TURN = 30_000;

type Game = RoomHarness<TicTacToeState, { move: { cell: number } }, TicTacToeEvents>;

function game(): Game {
  const room = new RoomHarness(ticTacToeRoom, { traps: true });
  room.join(X);
  room.join(O);
  return room;
}

/** Plays cells alternately, X first. */
function play(room: Game, ...cells: number[]): void {
  for (const cell of cells) room.send(room.state.turn === "X" ? X : O, "move", { cell });
}

describe("tictactoe - players and turns", () => {
  it("tictactoe - the first two members play X and O, later ones watch", () => {
    const room = new RoomHarness(ticTacToeRoom, { traps: true });
    room.join(X);
    expect(room.state).toMatchObject({ status: "waiting", players: { X, O: null } });
    expectRejected(room, () => room.send(X, "move", { cell: 0 }), /waiting for an opponent/);
    room.advance(1_000);
    room.join(O);
    room.join(SPECTATOR);
    expect(room.state).toMatchObject({
      status: "playing",
      turn: "X",
      turnStartedAt: START + 1_000,
    });
    expect(room.eventsOf("players").map((e) => e.body)).toEqual([
      { X, O: null },
      { X, O },
    ]);
    expect(room.timers).toEqual({ forfeit: START + 1_000 + TURN });
    expectRejected(room, () => room.send(SPECTATOR, "move", { cell: 0 }), /spectators cannot play/);
  });

  it("tictactoe - players alternate, on free cells only", () => {
    const room = game();
    expectRejected(room, () => room.send(O, "move", { cell: 4 }), /not your turn: X to move/);
    expect(room.send(X, "move", { cell: 4 })).toEqual({ status: "playing" });
    expect(room.state.turn).toBe("O");
    expectRejected(room, () => room.send(X, "move", { cell: 0 }), /not your turn: O to move/);
    expectRejected(room, () => room.send(O, "move", { cell: 4 }), /cell 4 is taken/);
    room.send(O, "move", { cell: 0 });
    expect(room.state.board).toEqual(["O", null, null, null, "X", null, null, null, null]);
    expect(room.eventsFor(SPECTATOR)).toEqual([]);
    expect(room.eventsOf("move").map((e) => e.body)).toEqual([
      { cell: 4, mark: "X" },
      { cell: 0, mark: "O" },
    ]);
  });

  it("tictactoe - malformed moves are rejected before the handler", () => {
    const room = game();
    const bad: Value[] = [null, {}, { cell: -1 }, { cell: 9 }, { cell: 1.5 }, { cell: "4" }, [4]];
    for (const body of bad) {
      expectRejected(room, () => room.sendRaw(X, "move", body), /invalid move body/);
    }
    expectRejected(room, () => room.sendRaw(X, "undo", {}), /unknown message type/);
  });

  it("tictactoe - a player who leaves keeps the seat", () => {
    const room = game();
    room.leave(X);
    room.join(SPECTATOR);
    room.join(X);
    expect(room.state.players).toEqual({ X, O });
    play(room, 4);
    expect(room.state.turn).toBe("O");
  });
});

describe("tictactoe - results", () => {
  it("tictactoe - three in a row wins", () => {
    const room = game();
    play(room, 0, 3, 1, 4);
    expect(room.send(X, "move", { cell: 2 })).toEqual({ status: "over" });
    expect(room.state).toMatchObject({ status: "over", winner: "X", reason: "line" });
    expect(room.last("gameOver")?.body).toEqual({ winner: "X", reason: "line" });
    expect(room.timers).toEqual({});
    expectRejected(room, () => room.send(O, "move", { cell: 5 }), /the game is over/);
  });

  it("tictactoe - a diagonal wins for O too", () => {
    const room = game();
    play(room, 0, 2, 1, 4, 8, 6);
    expect(room.state).toMatchObject({ status: "over", winner: "O", reason: "line" });
  });

  it("tictactoe - a full board without a line is a draw", () => {
    const room = game();
    // X O X / X O O / O X X
    play(room, 0, 1, 2, 4, 3, 5, 7, 6, 8);
    expect(room.state).toMatchObject({ status: "over", winner: null, reason: "draw" });
    expect(room.last("gameOver")?.body).toEqual({ winner: null, reason: "draw" });
  });

  it("tictactoe - the side to move forfeits when its time runs out", () => {
    const room = game();
    room.advance(10_000);
    play(room, 4);
    room.advance(TURN - 1);
    expect(room.state.status).toBe("playing");
    room.advance(1);
    expect(room.state).toMatchObject({ status: "over", winner: "X", reason: "forfeit" });
    expect(room.last("gameOver")?.body).toEqual({ winner: "X", reason: "forfeit" });
    expect(room.timers).toEqual({});
  });

  it("tictactoe - an early forfeit timer re-arms; a late move is refused", () => {
    const room = game();
    room.advance(10_000);
    room.fireTimer("forfeit");
    expect(room.state.status).toBe("playing");
    expect(room.timers).toEqual({ forfeit: START + TURN });
    // The move comes at the due time, before the timer is handled.
    delete room.timers.forfeit;
    room.advance(TURN - 10_000);
    expectRejected(room, () => room.send(X, "move", { cell: 4 }), /out of time/);
    room.fireTimer("forfeit");
    expect(room.state).toMatchObject({ status: "over", winner: "O", reason: "forfeit" });
  });

  it("tictactoe - the forfeit timer survives a failover", () => {
    const room = game();
    room.advance(5_000);
    play(room, 4);
    const resumed = room.restart(20_000);
    expect(resumed.timers).toEqual({ forfeit: START + 5_000 + TURN });
    resumed.advance(TURN - 20_000 - 1);
    expect(resumed.state.status).toBe("playing");
    resumed.advance(1);
    expect(resumed.state).toMatchObject({ status: "over", winner: "X", reason: "forfeit" });
    resumed.checkReplay();
  });

  it("tictactoe - state is plain data and the journal replays", () => {
    expectTypeOf<TicTacToeState>().toExtend<Value>();
    const room = game();
    play(room, 0, 3, 1);
    expectRejected(room, () => room.send(X, "move", { cell: 8 }));
    play(room, 4, 2);
    room.checkReplay();
    expect(() => createTicTacToeRoom({ turnMs: 0 })).toThrow(RangeError);
    expect(createTicTacToeRoom({ type: "ttt-blitz", turnMs: 5_000 }).type).toBe("ttt-blitz");
  });
});
