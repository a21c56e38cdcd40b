/**
 * The "tictactoe" example room: the first two members to join play X and O
 * (later ones watch), X moves first, three in a row wins and a full board
 * draws. The side to move has `turnMs` to move, or forfeits.
 */
import { defineRoom, int, message, shape, type RoomContext } from "@rookery/actors";

export type TicTacToeMark = "X" | "O";
export type TicTacToeEnd = "line" | "draw" | "forfeit";
const initialState = () => ({
  /** Cells 0..8, row by row. */
  board: Array<TicTacToeMark | null>(9).fill(null),
  players: { X: null as string | null, O: null as string | null },
  turn: "X" as TicTacToeMark,
  status: "waiting" as "waiting" | "playing" | "over",
  /** The winner once over; null for a draw. */
  winner: null as TicTacToeMark | null,
  reason: null as TicTacToeEnd | null,
  /** `ctx.now()` when the side to move started its turn. */
  turnStartedAt: null as number | null,
});
export type TicTacToeState = ReturnType<typeof initialState>;
export type TicTacToeEvents = {
  players: TicTacToeState["players"];
  move: { cell: number; mark: TicTacToeMark };
  gameOver: { winner: TicTacToeMark | null; reason: TicTacToeEnd };
};
export type TicTacToeOptions = { type?: string; turnMs?: number };

// prettier-ignore
const LINES = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]];
const other = (mark: TicTacToeMark): TicTacToeMark => (mark === "X" ? "O" : "X");
type Ctx = RoomContext<TicTacToeState, TicTacToeEvents>;

function startTurn(ctx: Ctx, turnMs: number, turn: TicTacToeMark): void {
  Object.assign(ctx.state, { status: "playing", turn, turnStartedAt: ctx.now() });
  ctx.setTimer("forfeit", turnMs);
}

function end(ctx: Ctx, winner: TicTacToeMark | null, reason: TicTacToeEnd): void {
  Object.assign(ctx.state, { status: "over", winner, reason, turnStartedAt: null });
  ctx.clearTimer("forfeit");
  ctx.emit("gameOver", { winner, reason });
}

export function createTicTacToeRoom(options: TicTacToeOptions = {}) {
  const { type = "tictactoe", turnMs = 30_000 } = options;
  if (!(turnMs > 0)) throw new RangeError("turnMs must be positive");
  return defineRoom({
    type,
    events: {} as TicTacToeEvents,
    initialState,
    onJoin(ctx, member) {
      const { players } = ctx.state;
      if (players.X === member.id || players.O === member.id) return; // a player back
      if (players.X === null) players.X = member.id;
      else if (players.O === null) players.O = member.id;
      else return; // a spectator
      ctx.emit("players", { ...players });
      if (players.O !== null) startTurn(ctx, turnMs, "X");
    },
    onMessage: {
      move: message(shape({ cell: int({ min: 0, max: 8 }) }), (ctx: Ctx, { cell }, sender) => {
        const s = ctx.state;
        if (s.status === "waiting") ctx.reject("waiting for an opponent");
        if (s.status === "over") ctx.reject("the game is over");
        const mark = s.players.X === sender.id ? "X" : s.players.O === sender.id ? "O" : null;
        if (mark === null) return ctx.reject("spectators cannot play");
        if (mark !== s.turn) ctx.reject(`not your turn: ${s.turn} to move`);
        if (ctx.now() - s.turnStartedAt! >= turnMs) ctx.reject("out of time"); // the timer decides
        if (s.board[cell] !== null) ctx.reject(`cell ${cell} is taken`);
        s.board[cell] = mark;
        ctx.emit("move", { cell, mark });
        if (LINES.some((line) => line.every((i) => s.board[i] === mark))) end(ctx, mark, "line");
        else if (!s.board.includes(null)) end(ctx, null, "draw");
        else startTurn(ctx, turnMs, other(mark));
        return { status: s.status };
      }),
    },
    // "Look now": an early or stale timer re-arms for the time left.
    onTimer(ctx, name) {
      const s = ctx.state;
      if (name !== "forfeit" || s.status !== "playing" || s.turnStartedAt === null) return;
      const left = s.turnStartedAt + turnMs - ctx.now();
      if (left > 0) ctx.setTimer("forfeit", left);
      else end(ctx, other(s.turn), "forfeit");
    },
  });
}

/** Type `tictactoe`, 30 s a move. */
export const ticTacToeRoom = createTicTacToeRoom();
