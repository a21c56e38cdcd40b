import type { Value } from "@rookery/protocol";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  chessFen,
  chessRoom,
  createChessRoom,
  type ChessEvents,
  type ChessMessages,
  type ChessOptions,
  type ChessPromotion,
  type ChessSquare,
  type ChessState,
} from "../src/index";
import { expectRejected, InputRejectedError, RoomHarness, START } from "@rookery/actors/testing";

const WHITE = "alice:1";
const BLACK = "bob:1";
const SPECTATOR = "carol:1";
const MIN = 60_000;

type Chess = RoomHarness<ChessState, ChessMessages, ChessEvents>;

function game(options?: ChessOptions): Chess {
  const room = new RoomHarness(options ? createChessRoom(options) : chessRoom, { traps: true });
  room.join(WHITE);
  room.join(BLACK);
  return room;
}

function move(room: Chess, who: string, uci: string): Value | undefined {
  const promotion = uci.slice(4) || undefined;
  return room.send(who, "move", {
    from: uci.slice(0, 2) as ChessSquare,
    to: uci.slice(2, 4) as ChessSquare,
    ...(promotion ? { promotion: promotion as ChessPromotion } : {}),
  });
}

/** Plays alternate moves starting with white. */
function play(room: Chess, ...moves: string[]): void {
  for (const uci of moves) move(room, room.state.turn === "w" ? WHITE : BLACK, uci);
}

/** A board with only the given pieces, e.g. `{ e1: "K", d4: "q" }`. */
function board(pieces: Record<string, string>): string {
  const squares = Array.from({ length: 64 }, () => ".");
  for (const [square, piece] of Object.entries(pieces)) {
    squares[(square.charCodeAt(1) - 49) * 8 + (square.charCodeAt(0) - 97)] = piece;
  }
  return squares.join("");
}

/** A game whose position is set up by hand, `turn` to move. */
function position(pieces: Record<string, string>, turn: "w" | "b" = "w"): Chess {
  const room = game();
  room.state.board = board({ e1: "K", e8: "k", ...pieces });
  room.state.turn = turn;
  return room;
}

const at = (room: Chess, square: string) =>
  room.state.board[(square.charCodeAt(1) - 49) * 8 + (square.charCodeAt(0) - 97)];

describe("chess - seats", () => {
  it("chess - the first two members to join get white and black, later ones spectate", () => {
    const room = new RoomHarness(chessRoom, { traps: true });
    room.join(WHITE);
    expect(room.state.seats).toEqual({ white: WHITE, black: null });
    expect(room.state.status).toBe("waiting");
    room.join(BLACK);
    room.join(SPECTATOR);
    expect(room.state.seats).toEqual({ white: WHITE, black: BLACK });
    expect(room.state.status).toBe("playing");
    expect(room.eventsOf("seats").map((e) => [e.body, e.to])).toEqual([
      [{ white: WHITE, black: null }, null],
      [{ white: WHITE, black: BLACK }, null],
      [{ white: WHITE, black: BLACK }, [SPECTATOR]],
    ]);
    expect(room.last("start")?.body).toMatchObject({ white: WHITE, black: BLACK, turn: "w" });
    // Every joiner gets the current game privately.
    expect(room.eventsOf("game").map((e) => e.to)).toEqual([[WHITE], [BLACK], [SPECTATOR]]);
    expect(room.last("game")?.body).toMatchObject({
      fen: "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w - - 0 1",
      status: "playing",
      clocks: { w: 5 * MIN, b: 5 * MIN },
    });
  });

  it("chess - a seat stays reserved for its member and the game goes on when a player leaves", () => {
    const room = game();
    play(room, "e2e4");
    room.leave(BLACK);
    expect(room.state.status).toBe("playing");
    room.join(SPECTATOR);
    expect(room.state.seats).toEqual({ white: WHITE, black: BLACK });
    expectRejected(room, () => move(room, SPECTATOR, "e7e5"), /spectators/);
    room.join(BLACK);
    expect(room.state.seats).toEqual({ white: WHITE, black: BLACK });
    expect(room.last("seats")?.to).toEqual([BLACK]);
    move(room, BLACK, "e7e5");
    expect(room.state.history).toEqual(["e2e4", "e7e5"]);
  });

  it("chess - a player who leaves before an opponent arrives keeps white", () => {
    const room = new RoomHarness(chessRoom, { traps: true });
    room.join(WHITE);
    room.leave(WHITE);
    room.join(BLACK);
    expect(room.state.seats).toEqual({ white: WHITE, black: BLACK });
    room.join(WHITE);
    expect(room.state.seats).toEqual({ white: WHITE, black: BLACK });
  });
});

describe("chess - turn order and ownership", () => {
  it("chess - moves are refused until both seats are taken", () => {
    const room = new RoomHarness(chessRoom, { traps: true });
    room.join(WHITE);
    expectRejected(room, () => move(room, WHITE, "e2e4"), /waiting for an opponent/);
  });

  it("chess - only the side to move may move", () => {
    const room = game();
    room.join(SPECTATOR);
    expectRejected(room, () => move(room, BLACK, "e7e5"), /not your turn: white to move/);
    expectRejected(room, () => move(room, SPECTATOR, "e2e4"), /spectators cannot play/);
    move(room, WHITE, "e2e4");
    expect(room.state.turn).toBe("b");
    expectRejected(room, () => move(room, WHITE, "d2d4"), /not your turn: black to move/);
    move(room, BLACK, "e7e5");
    expect(room.state.turn).toBe("w");
  });

  it("chess - a player may only move their own piece", () => {
    const room = game();
    expectRejected(room, () => move(room, WHITE, "e7e5"), /e7 is not yours/);
    expectRejected(room, () => move(room, WHITE, "e4e5"), /no piece on e4/);
  });

  it("chess - the destination may not hold the mover's own piece", () => {
    const room = game();
    expectRejected(room, () => move(room, WHITE, "a1a2"), /a2 is occupied by your own piece/);
    expectRejected(room, () => move(room, WHITE, "d1e1"), /occupied by your own piece/);
  });

  it("chess - a rejected move changes nothing and emits nothing", () => {
    const room = game();
    play(room, "e2e4");
    room.advance(1_000);
    expectRejected(room, () => move(room, BLACK, "e7e4"), /illegal move e7-e4/);
    expect(room.state.turn).toBe("b");
  });

  it("chess - malformed move bodies are rejected before the handler", () => {
    const room = game();
    const bad: Value[] = [
      null,
      [],
      "e2e4",
      {},
      { from: "e2" },
      { from: "e2", to: "e9" },
      { from: "E2", to: "E4" },
      { from: "e2", to: 4 },
      { from: "e7", to: "e8", promotion: "k" },
      { from: "e7", to: "e8", promotion: "Q" },
    ];
    for (const body of bad) {
      expectRejected(room, () => room.sendRaw(WHITE, "move", body), /invalid move body/);
    }
    expectRejected(room, () => room.sendRaw(WHITE, "resign", "now"), /invalid resign body/);
    expectRejected(room, () => room.sendRaw(WHITE, "castle", {}), /unknown message type/);
    // A nil promotion is the same as none (nil fields read as absent).
    room.sendRaw(WHITE, "move", { from: "e2", to: "e4", promotion: null });
    expect(room.state.history).toEqual(["e2e4"]);
  });
});

describe("chess - piece movement", () => {
  it("chess - pawns step one forward, two from their start rank, never backward or sideways", () => {
    const room = game();
    expectRejected(room, () => move(room, WHITE, "e2e5"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "e2d3"), /illegal/); // diagonal to an empty square
    expectRejected(room, () => move(room, WHITE, "e2f2"), /own piece/);
    play(room, "e2e4", "d7d6");
    expect(at(room, "e4")).toBe("P");
    expect(at(room, "e2")).toBe(".");
    expectRejected(room, () => move(room, WHITE, "e4e6"), /illegal/); // double step only from the start
    expectRejected(room, () => move(room, WHITE, "e4e3"), /illegal/); // backward
    play(room, "e4e5");
    expectRejected(room, () => move(room, BLACK, "d6d4"), /illegal/);
    expectRejected(room, () => move(room, BLACK, "d6e6"), /illegal/);
  });

  it("chess - a pawn cannot move forward into or through a piece", () => {
    const room = position({ e2: "P", e3: "n", d2: "P", d4: "p", c2: "P", c3: "P" });
    expectRejected(room, () => move(room, WHITE, "e2e3"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "e2e4"), /illegal/); // jumps over e3
    expectRejected(room, () => move(room, WHITE, "d2d4"), /illegal/); // straight capture
    expectRejected(room, () => move(room, WHITE, "c2c4"), /illegal/);
    move(room, WHITE, "d2d3");
  });

  it("chess - pawns capture one square diagonally forward", () => {
    const room = game();
    play(room, "e2e4", "d7d5");
    const result = move(room, WHITE, "e4d5");
    expect(result).toEqual({ ply: 3, san: "exd5" });
    expect(at(room, "d5")).toBe("P");
    expect(room.last("move")?.body).toMatchObject({ captured: "P", piece: "P", san: "exd5" });
    // Black pawns capture downward.
    move(room, BLACK, "c7c6");
    move(room, WHITE, "a2a3");
    move(room, BLACK, "c6d5");
    expect(at(room, "d5")).toBe("p");
  });

  it("chess - knights jump in an L", () => {
    const room = game();
    expectRejected(room, () => move(room, WHITE, "g1g3"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "g1e2"), /own piece/);
    expectRejected(room, () => move(room, WHITE, "g1h4"), /illegal/);
    play(room, "g1f3", "b8c6", "f3g5", "c6d4");
    expect(at(room, "g5")).toBe("N");
    expect(at(room, "d4")).toBe("n");
    expect(room.last("move")?.body).toMatchObject({ san: "Nd4" });
  });

  it("chess - bishops move diagonally and cannot pass pieces", () => {
    const room = position({ c1: "B", e3: "P", a3: "p" });
    expectRejected(room, () => move(room, WHITE, "c1f4"), /illegal/); // blocked by e3... via d2-e3
    expectRejected(room, () => move(room, WHITE, "c1c4"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "c1e2"), /illegal/);
    move(room, WHITE, "c1a3");
    expect(room.last("move")?.body).toMatchObject({ san: "Bxa3", captured: "P" });
  });

  it("chess - rooks move along ranks and files and cannot pass pieces", () => {
    const room = position({ a1: "R", a5: "P", h1: "r" });
    expectRejected(room, () => move(room, WHITE, "a1a6"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "a1b2"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "a1h1"), /illegal/); // e1 king in the way
    move(room, WHITE, "a1a4");
    move(room, BLACK, "h1f1");
    expect(at(room, "f1")).toBe("r");
  });

  it("chess - queens move like rooks and bishops, and cannot pass pieces", () => {
    const room = position({ d4: "Q", d6: "p", f6: "P", b2: "p" });
    expectRejected(room, () => move(room, WHITE, "d4d7"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "d4g7"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "d4e6"), /illegal/);
    move(room, WHITE, "d4b2");
    expect(room.last("move")?.body).toMatchObject({ san: "Qxb2", captured: "P" });
    room.state.turn = "w";
    move(room, WHITE, "b2h2");
    room.state.turn = "w";
    move(room, WHITE, "h2h7");
    expect(at(room, "h7")).toBe("Q");
  });

  it("chess - kings move one step; castling is not supported", () => {
    const room = position({ h1: "R" });
    expectRejected(room, () => move(room, WHITE, "e1g1"), /illegal/);
    expectRejected(room, () => move(room, WHITE, "e1e3"), /illegal/);
    move(room, WHITE, "e1f2");
    move(room, BLACK, "e8d7");
    expect(at(room, "f2")).toBe("K");
    expect(at(room, "d7")).toBe("k");
  });

  it("chess - a piece cannot stay on its square", () => {
    const room = position({ d4: "Q" });
    expectRejected(room, () => move(room, WHITE, "d4d4"), /change squares/);
  });

  it("chess - SAN names the file or rank when two pieces can reach the same square", () => {
    const room = position({ b1: "N", f1: "N", a1: "R", a5: "R" });
    move(room, WHITE, "b1d2");
    expect(room.last("move")?.body).toMatchObject({ san: "Nbd2" });
    room.state.turn = "w";
    move(room, WHITE, "a5a3");
    expect(room.last("move")?.body).toMatchObject({ san: "R5a3" });
  });
});

describe("chess - promotion and game end", () => {
  it("chess - a pawn reaching the last rank promotes to a queen by default", () => {
    const room = position({ a7: "P", h2: "p" });
    move(room, WHITE, "a7a8");
    expect(at(room, "a8")).toBe("Q");
    expect(room.last("move")?.body).toMatchObject({ promotion: "q", san: "a8=Q" });
    move(room, BLACK, "h2h1n");
    expect(at(room, "h1")).toBe("n");
    expect(room.state.history).toEqual(["a7a8q", "h2h1n"]);
  });

  it("chess - a pawn may capture into promotion and choose its piece", () => {
    const room = position({ b7: "P", c8: "r" });
    move(room, WHITE, "b7c8r");
    expect(at(room, "c8")).toBe("R");
    expect(room.last("move")?.body).toMatchObject({ san: "bxc8=R", captured: "R" });
  });

  it("chess - promotion is refused for a move that does not promote", () => {
    const room = game();
    expectRejected(room, () => move(room, WHITE, "e2e4q"), /promotion is only for a pawn/);
    expectRejected(room, () => move(room, WHITE, "g1f3q"), /promotion is only for a pawn/);
  });

  it("chess - capturing the king ends the game (check is not detected)", () => {
    const room = game();
    play(room, "e2e4", "f7f6", "d1h5", "a7a6");
    move(room, WHITE, "h5e8");
    expect(room.state).toMatchObject({ status: "over", result: "1-0", reason: "kingCaptured" });
    expect(room.timers).toEqual({});
    expect(room.last("gameOver")?.body).toMatchObject({ result: "1-0", reason: "kingCaptured" });
    expectRejected(room, () => move(room, BLACK, "a6a5"), /the game is over/);
  });

  it("chess - a player may resign at any time; spectators may not", () => {
    const room = game();
    room.join(SPECTATOR);
    play(room, "e2e4");
    expectRejected(room, () => room.send(SPECTATOR, "resign", {}), /spectators/);
    room.advance(3_000);
    expect(room.send(WHITE, "resign", null)).toEqual({ result: "0-1" });
    expect(room.state).toMatchObject({ status: "over", result: "0-1", reason: "resign" });
    // Black was thinking for 3 s when white resigned: the final clock shows it.
    expect(room.state.clocks).toEqual({ w: 5 * MIN, b: 5 * MIN - 3_000 });
    expect(room.state.turnStartedAt).toBeNull();
    expect(room.timers).toEqual({});
    expect(room.last("gameOver")?.body).toEqual({
      result: "0-1",
      reason: "resign",
      clocks: { w: 5 * MIN, b: 5 * MIN - 3_000 },
    });
    expectRejected(room, () => room.send(BLACK, "resign", {}), /the game is over/);
  });

  it("chess - resigning before the game starts is refused", () => {
    const room = new RoomHarness(chessRoom, { traps: true });
    room.join(WHITE);
    expectRejected(room, () => room.send(WHITE, "resign", {}), /has not started/);
  });

  it("chess - a draw offer can be accepted by the opponent and is declined by their move", () => {
    const room = game();
    expectRejected(room, () => room.send(BLACK, "acceptDraw", {}), /no draw offer/);
    room.send(WHITE, "offerDraw", {});
    expect(room.last("drawOffer")?.body).toEqual({ by: "w" });
    expectRejected(room, () => room.send(WHITE, "acceptDraw", {}), /no draw offer/);
    expectRejected(room, () => room.send(WHITE, "offerDraw", {}), /already offered/);
    play(room, "e2e4"); // the offerer's own move keeps the offer
    expect(room.state.drawOffer).toBe("w");
    play(room, "e7e5"); // the opponent moving declines it
    expect(room.state.drawOffer).toBeNull();
    expectRejected(room, () => room.send(BLACK, "acceptDraw", {}), /no draw offer/);
    room.send(BLACK, "offerDraw", null);
    expect(room.send(WHITE, "acceptDraw", {})).toEqual({ result: "1/2-1/2" });
    expect(room.state).toMatchObject({ status: "over", result: "1/2-1/2", reason: "agreement" });
  });

  it("chess - two crossing draw offers are an agreement", () => {
    const room = game();
    room.send(WHITE, "offerDraw", {});
    room.send(BLACK, "offerDraw", {});
    expect(room.state).toMatchObject({ status: "over", reason: "agreement" });
  });
});

describe("chess - clocks", () => {
  it("chess - the clock starts for white when both seats are taken and arms the flag timer", () => {
    const room = new RoomHarness(chessRoom, { traps: true });
    room.join(WHITE);
    expect(room.timers).toEqual({});
    room.advance(10_000);
    room.join(BLACK);
    expect(room.state.turnStartedAt).toBe(START + 10_000);
    expect(room.timers).toEqual({ flag: START + 10_000 + 5 * MIN });
  });

  it("chess - elapsed time is deducted from the mover only and the flag is re-armed for the side to move", () => {
    const room = game();
    room.advance(7_000);
    move(room, WHITE, "e2e4");
    expect(room.state.clocks).toEqual({ w: 5 * MIN - 7_000, b: 5 * MIN });
    expect(room.timers).toEqual({ flag: START + 7_000 + 5 * MIN });
    expect(room.last("move")?.body).toMatchObject({
      clocks: { w: 5 * MIN - 7_000, b: 5 * MIN },
      turn: "b",
      at: START + 7_000,
      fen: "rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b - - 0 1",
    });
    room.advance(2_500);
    move(room, BLACK, "e7e5");
    expect(room.state.clocks).toEqual({ w: 5 * MIN - 7_000, b: 5 * MIN - 2_500 });
    expect(room.timers).toEqual({ flag: START + 9_500 + 5 * MIN - 7_000 });
    expect(room.state.turnStartedAt).toBe(START + 9_500);
  });

  it("chess - the increment is added to the mover's clock", () => {
    const room = game({ initialTimeMs: MIN, incrementMs: 2_000 });
    room.advance(5_000);
    move(room, WHITE, "e2e4");
    expect(room.state.clocks).toEqual({ w: MIN - 3_000, b: MIN });
  });

  it("chess - the side to move loses on time when its flag falls", () => {
    const room = game({ initialTimeMs: MIN });
    room.advance(20_000);
    move(room, WHITE, "e2e4");
    room.advance(MIN - 1);
    expect(room.state.status).toBe("playing");
    room.advance(1);
    expect(room.state).toMatchObject({ status: "over", result: "1-0", reason: "time" });
    expect(room.state.clocks).toEqual({ w: 40_000, b: 0 });
    expect(room.last("gameOver")?.body).toEqual({
      result: "1-0",
      reason: "time",
      clocks: { w: 40_000, b: 0 },
    });
    expect(room.timers).toEqual({});
  });

  it("chess - an early flag timer does not end the game and re-arms for the time left", () => {
    const room = game({ initialTimeMs: MIN });
    room.advance(45_000);
    room.fireTimer("flag");
    expect(room.state.status).toBe("playing");
    expect(room.eventsOf("gameOver")).toEqual([]);
    expect(room.timers).toEqual({ flag: START + MIN });
    // A stale timer from an earlier turn is harmless too.
    move(room, WHITE, "e2e4");
    room.fireTimer("flag");
    expect(room.state.status).toBe("playing");
    expect(room.timers).toEqual({ flag: START + 45_000 + MIN });
    room.fireTimer("other");
    expect(room.state.status).toBe("playing");
  });

  it("chess - a move after the mover's time ran out is refused and the flag then ends the game", () => {
    const room = game({ initialTimeMs: MIN });
    const due = room.timers.flag!;
    // The move is handled at the flag's due time, just before the timer fires.
    delete room.timers.flag;
    room.advance(MIN);
    expectRejected(room, () => move(room, WHITE, "e2e4"), /out of time/);
    room.timers.flag = due;
    room.advance(0);
    expect(room.state).toMatchObject({ status: "over", result: "0-1", reason: "time" });
  });

  it("chess - the clock keeps running across a failover (timestamps and persisted timers)", () => {
    const room = game({ initialTimeMs: MIN });
    room.advance(10_000);
    move(room, WHITE, "e2e4");
    room.advance(5_000);
    // The node dies; the room is re-homed 20 s later from its persisted state and timers.
    const persisted = room.snapshot();
    const resumed: Chess = new RoomHarness(createChessRoom({ initialTimeMs: MIN }), {
      from: persisted,
      traps: true,
      now: room.now() + 20_000,
    });
    expect(resumed.timers).toEqual({ flag: START + 10_000 + MIN });
    // Black moves right after: the downtime counts against black's clock.
    move(resumed, BLACK, "e7e5");
    expect(resumed.state.clocks).toEqual({ w: MIN - 10_000, b: MIN - 25_000 });
    // White's flag falls exactly when white's remaining time runs out.
    resumed.advance(MIN - 10_000 - 1);
    expect(resumed.state.status).toBe("playing");
    resumed.advance(1);
    expect(resumed.state).toMatchObject({ status: "over", result: "0-1", reason: "time" });
  });

  it("chess - options are checked", () => {
    expect(() => createChessRoom({ initialTimeMs: 0 })).toThrow(RangeError);
    expect(() => createChessRoom({ initialTimeMs: Number.NaN })).toThrow(RangeError);
    expect(() => createChessRoom({ incrementMs: -1 })).toThrow(RangeError);
    expect(createChessRoom({ type: "blitz" }).type).toBe("blitz");
    expect(chessRoom).toMatchObject({ type: "chess", durability: "durable" });
  });
});

describe("chess - state and determinism", () => {
  it("chess - the state is plain serializable data", () => {
    expectTypeOf<ChessState>().toExtend<Value>();
    const room = game();
    play(room, "e2e4", "e7e5", "g1f3");
    // The harness checks every handler's state; this also survives a JSON round trip.
    expect(JSON.parse(JSON.stringify(room.state))).toEqual(room.state);
    expect(chessFen(room.state)).toBe(
      "rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b - - 1 2",
    );
  });

  it("chess - replaying the same inputs gives the same state and events", () => {
    const run = () => {
      const room = game();
      play(room, "d2d4", "d7d5", "c2c4");
      room.advance(1_234);
      play(room, "d5c4", "e2e3");
      try {
        move(room, WHITE, "e3e4");
      } catch (err) {
        if (!(err instanceof InputRejectedError)) throw err;
      }
      room.send(BLACK, "resign", {});
      // The node rebuilds the same room from its journal.
      room.checkReplay();
      return { state: room.state, events: room.events, timers: room.timers };
    };
    expect(run()).toEqual(run());
  });
});
