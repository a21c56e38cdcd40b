/**
 * The "chess" example room: two seats, authoritative (simplified) move
 * validation and chess clocks computed from timestamps.
 *
 * What the rules cover: turn order, own-piece / own-destination checks, the
 * movement of every piece kind (pawn single and double step and diagonal
 * capture, knight, bishop / rook / queen along unblocked lines, king one
 * step) and promotion (to a queen unless the mover picks another piece).
 *
 * What they omit: castling, en passant, check, checkmate and stalemate
 * detection (a king may move into or stay in check), and the automatic draw
 * rules (50 moves, repetition, insufficient material). Because nothing
 * detects mate, taking the opponent's king ends the game ("kingCaptured").
 * Games also end by resignation, agreed draw, or a clock running out.
 */
import {
  defineRoom,
  Durability,
  isMap,
  message,
  type Member,
  type RoomContext,
} from "@rookery/actors";
import type { Value } from "@rookery/protocol";

// ---- public types ----

export type ChessColor = "w" | "b";
export type ChessFile = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h";
export type ChessRank = "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8";
/** A square in algebraic notation, e.g. `"e4"`. */
export type ChessSquare = `${ChessFile}${ChessRank}`;
/** Piece a pawn promotes to (lower case, as in UCI). */
export type ChessPromotion = "q" | "r" | "b" | "n";
export type ChessResult = "1-0" | "0-1" | "1/2-1/2";
export type ChessEndReason = "resign" | "time" | "agreement" | "kingCaptured";
export type ChessStatus = "waiting" | "playing" | "over";

/** Remaining clock time of each side in ms. */
export type ChessClocks = { w: number; b: number };

/**
 * A chess room's state: plain data only (it is journaled and snapshotted as
 * MessagePack).
 */
export type ChessState = {
  /**
   * 64 characters, index `rank * 8 + file` (index 0 = a1, 7 = h1, 63 = h8):
   * FEN piece letters (`PNBRQK` white, `pnbrqk` black), `.` for empty.
   */
  board: string;
  turn: ChessColor;
  /** Member ids holding the seats; a seat stays reserved while its member is away. */
  seats: { white: string | null; black: string | null };
  status: ChessStatus;
  result: ChessResult | null;
  reason: ChessEndReason | null;
  /** Remaining ms of each side as of `turnStartedAt`. */
  clocks: ChessClocks;
  /** Room time the side to move started thinking; null unless playing. */
  turnStartedAt: number | null;
  /** The side that offered a draw, if the offer stands. */
  drawOffer: ChessColor | null;
  /** Moves in UCI form (`e2e4`, `e7e8q`), in order. */
  history: string[];
  /** Plies since the last capture or pawn move (reported in the FEN only). */
  halfmoveClock: number;
  fullmoveNumber: number;
};

/** A body with nothing to say: `{}` or nil (a missing body reads as nil); fields are ignored. */
export type ChessEmptyBody = { [key: string]: Value } | null;

export type ChessMoveBody = {
  from: ChessSquare;
  to: ChessSquare;
  /** Only for a pawn reaching the last rank. @default "q" */
  promotion?: ChessPromotion | null;
};

export type ChessMessages = {
  move: ChessMoveBody;
  resign: ChessEmptyBody;
  offerDraw: ChessEmptyBody;
  acceptDraw: ChessEmptyBody;
};

/** What the room emits; clients typed with `join<typeof chessRoom>` read these. */
export type ChessEvents = {
  seats: ChessState["seats"];
  start: { white: string; black: string; clocks: ChessClocks; turn: ChessColor; at: number };
  /** The public view of the game, to each joiner. */
  game: Value;
  move: {
    ply: number;
    by: ChessColor;
    from: ChessSquare;
    to: ChessSquare;
    piece: string;
    captured: string | null;
    promotion: string | null;
    san: string;
    fen: string;
    clocks: ChessClocks;
    turn: ChessColor;
    at: number;
  };
  drawOffer: { by: ChessColor };
  gameOver: { result: ChessResult; reason: ChessEndReason; clocks: ChessClocks };
};

type Ctx = RoomContext<ChessState, ChessEvents>;

export interface ChessOptions {
  /** Room type name. @default "chess" */
  type?: string;
  /** Each side's starting time in ms. @default 300_000 (5 minutes) */
  initialTimeMs?: number;
  /** Time added to the mover's clock after each move, in ms. @default 0 */
  incrementMs?: number;
}

// ---- board helpers ----

const INITIAL_BOARD =
  "RNBQKBNR" +
  "PPPPPPPP" +
  "........" +
  "........" +
  "........" +
  "........" +
  "pppppppp" +
  "rnbqkbnr";

const FILES = "abcdefgh";
const SQUARE = /^[a-h][1-8]$/;
const PROMOTION = /^[qrbn]$/;

const fileOf = (index: number) => index % 8;
const rankOf = (index: number) => Math.floor(index / 8);
const squareIndex = (square: string) =>
  (square.charCodeAt(1) - 49) * 8 + (square.charCodeAt(0) - 97);
const squareName = (index: number) => `${FILES[fileOf(index)]}${rankOf(index) + 1}`;
const pieceAt = (board: string, index: number) => board[index] ?? ".";
const colorOf = (piece: string): ChessColor | null =>
  piece === "." ? null : piece === piece.toUpperCase() ? "w" : "b";
const other = (color: ChessColor): ChessColor => (color === "w" ? "b" : "w");
const colorName = (color: ChessColor) => (color === "w" ? "white" : "black");
const winFor = (color: ChessColor): ChessResult => (color === "w" ? "1-0" : "0-1");

function withPiece(board: string, index: number, piece: string): string {
  return board.slice(0, index) + piece + board.slice(index + 1);
}

/** True when every square strictly between `from` and `to` (on a line) is empty. */
function pathClear(board: string, from: number, to: number): boolean {
  const df = Math.sign(fileOf(to) - fileOf(from));
  const dr = Math.sign(rankOf(to) - rankOf(from));
  const step = dr * 8 + df;
  for (let i = from + step; i !== to; i += step) if (pieceAt(board, i) !== ".") return false;
  return true;
}

/**
 * Whether the piece on `from` may move to `to` by its movement rules
 * (ignoring whose turn it is and check). The caller has checked that `from`
 * holds a piece and `to` does not hold a piece of the same color.
 */
function canMove(board: string, from: number, to: number): boolean {
  const piece = pieceAt(board, from);
  const color = colorOf(piece);
  const df = fileOf(to) - fileOf(from);
  const dr = rankOf(to) - rankOf(from);
  const adf = Math.abs(df);
  const adr = Math.abs(dr);
  const target = pieceAt(board, to);
  switch (piece.toLowerCase()) {
    case "p": {
      const dir = color === "w" ? 1 : -1;
      const startRank = color === "w" ? 1 : 6;
      if (df === 0 && target === ".") {
        if (dr === dir) return true;
        return (
          dr === 2 * dir && rankOf(from) === startRank && pieceAt(board, from + 8 * dir) === "."
        );
      }
      // Diagonal capture; en passant is not supported.
      return adf === 1 && dr === dir && target !== ".";
    }
    case "n":
      return (adf === 1 && adr === 2) || (adf === 2 && adr === 1);
    case "b":
      return adf === adr && adf > 0 && pathClear(board, from, to);
    case "r":
      return (df === 0) !== (dr === 0) && pathClear(board, from, to);
    case "q":
      return (adf === adr || df === 0 || dr === 0) && pathClear(board, from, to);
    case "k":
      // One step in any direction; castling is not supported.
      return Math.max(adf, adr) === 1;
    default:
      return false;
  }
}

/** Standard algebraic notation, without check marks (check is not detected). */
function toSan(board: string, from: number, to: number, promotion: string | null): string {
  const piece = pieceAt(board, from);
  const kind = piece.toUpperCase();
  const capture = pieceAt(board, to) !== ".";
  const dest = squareName(to);
  if (kind === "P") {
    const prefix = capture ? `${FILES[fileOf(from)]}x` : "";
    return `${prefix}${dest}${promotion ? `=${promotion.toUpperCase()}` : ""}`;
  }
  // Disambiguate among other pieces of the same kind and color that reach `to`.
  const rivals: number[] = [];
  for (let i = 0; i < 64; i++) {
    if (i !== from && pieceAt(board, i) === piece && canMove(board, i, to)) rivals.push(i);
  }
  let disambiguation = "";
  if (rivals.length > 0) {
    if (rivals.every((i) => fileOf(i) !== fileOf(from))) disambiguation = FILES[fileOf(from)] ?? "";
    else if (rivals.every((i) => rankOf(i) !== rankOf(from)))
      disambiguation = String(rankOf(from) + 1);
    else disambiguation = squareName(from);
  }
  return `${kind}${disambiguation}${capture ? "x" : ""}${dest}`;
}

/** FEN of the position; castling and en passant fields are always "-". */
export function chessFen(state: ChessState): string {
  const ranks: string[] = [];
  for (let rank = 7; rank >= 0; rank--) {
    let row = "";
    let empty = 0;
    for (let file = 0; file < 8; file++) {
      const piece = pieceAt(state.board, rank * 8 + file);
      if (piece === ".") {
        empty += 1;
        continue;
      }
      if (empty > 0) row += String(empty);
      empty = 0;
      row += piece;
    }
    ranks.push(empty > 0 ? row + String(empty) : row);
  }
  return `${ranks.join("/")} ${state.turn} - - ${state.halfmoveClock} ${state.fullmoveNumber}`;
}

// ---- clock helpers ----

/** Remaining ms of each side at `now` (the side to move is charged the running turn). */
function clocksAt(state: ChessState, now: number): ChessClocks {
  const clocks = { ...state.clocks };
  if (state.status === "playing" && state.turnStartedAt !== null) {
    clocks[state.turn] = Math.max(0, clocks[state.turn] - (now - state.turnStartedAt));
  }
  return clocks;
}

function publicView(state: ChessState, now: number): Value {
  return {
    fen: chessFen(state),
    turn: state.turn,
    seats: { ...state.seats },
    status: state.status,
    result: state.result,
    reason: state.reason,
    clocks: clocksAt(state, now),
    drawOffer: state.drawOffer,
    history: [...state.history],
  };
}

function endGame(ctx: Ctx, result: ChessResult, reason: ChessEndReason): void {
  const state = ctx.state;
  state.clocks = clocksAt(state, ctx.now());
  state.status = "over";
  state.result = result;
  state.reason = reason;
  state.turnStartedAt = null;
  state.drawOffer = null;
  ctx.clearTimer("flag");
  ctx.emit("gameOver", { result, reason, clocks: { ...state.clocks } });
}

/** The color `member` plays, or rejects the input if they hold no seat. */
function seatOf(ctx: Ctx, member: Member): ChessColor {
  const { white, black } = ctx.state.seats;
  if (member.id === white) return "w";
  if (member.id === black) return "b";
  return ctx.reject("spectators cannot play");
}

function requirePlaying(ctx: Ctx): void {
  if (ctx.state.status === "waiting")
    ctx.reject("the game has not started: waiting for an opponent");
  if (ctx.state.status === "over") ctx.reject("the game is over");
}

// ---- body guards ----

const isSquare = (value: Value | undefined): value is ChessSquare =>
  typeof value === "string" && SQUARE.test(value);

function isMoveBody(body: Value): body is ChessMoveBody {
  if (!isMap(body) || !isSquare(body.from) || !isSquare(body.to)) return false;
  const promotion = body.promotion;
  return (
    promotion === undefined ||
    promotion === null ||
    (typeof promotion === "string" && PROMOTION.test(promotion))
  );
}

const isEmptyBody = (body: Value): body is ChessEmptyBody => body === null || isMap(body);

// ---- the room ----

/**
 * Builds a chess room type. Each side starts with `initialTimeMs` on its
 * clock; the clock of the side to move runs from `turnStartedAt` and is
 * enforced by a persisted one-shot timer named `"flag"`.
 */
export function createChessRoom(options: ChessOptions = {}) {
  const type = options.type ?? "chess";
  const initialTimeMs = options.initialTimeMs ?? 300_000;
  const incrementMs = options.incrementMs ?? 0;
  if (!Number.isFinite(initialTimeMs) || initialTimeMs <= 0) {
    throw new RangeError(`initialTimeMs must be a positive number of ms, got ${initialTimeMs}`);
  }
  if (!Number.isFinite(incrementMs) || incrementMs < 0) {
    throw new RangeError(`incrementMs must be a non-negative number of ms, got ${incrementMs}`);
  }

  return defineRoom({
    type,
    durability: Durability.Durable,
    events: {} as ChessEvents,

    initialState: (): ChessState => ({
      board: INITIAL_BOARD,
      turn: "w",
      seats: { white: null, black: null },
      status: "waiting",
      result: null,
      reason: null,
      clocks: { w: initialTimeMs, b: initialTimeMs },
      turnStartedAt: null,
      drawOffer: null,
      history: [],
      halfmoveClock: 0,
      fullmoveNumber: 1,
    }),

    onJoin(ctx, member) {
      const state = ctx.state;
      const seats = state.seats;
      const returning = member.id === seats.white || member.id === seats.black;
      let tookSeat = false;
      if (!returning && seats.white === null) {
        seats.white = member.id;
        tookSeat = true;
      } else if (!returning && seats.black === null) {
        seats.black = member.id;
        tookSeat = true;
      }

      if (tookSeat) {
        ctx.emit("seats", { white: seats.white, black: seats.black });
        if (state.status === "waiting" && seats.white !== null && seats.black !== null) {
          // Both seats taken: white's clock starts now.
          state.status = "playing";
          state.turnStartedAt = ctx.now();
          ctx.setTimer("flag", state.clocks[state.turn]);
          ctx.emit("start", {
            white: seats.white,
            black: seats.black,
            clocks: { ...state.clocks },
            turn: state.turn,
            at: ctx.now(),
          });
        }
      } else {
        // A spectator, or a player back at their reserved seat.
        ctx.emitTo(member.id, "seats", { white: seats.white, black: seats.black });
      }
      ctx.emitTo(member.id, "game", publicView(state, ctx.now()));
    },

    onMessage: {
      move: message(isMoveBody, (ctx: Ctx, body, sender) => {
        const state = ctx.state;
        const color = seatOf(ctx, sender);
        requirePlaying(ctx);
        if (color !== state.turn) ctx.reject(`not your turn: ${colorName(state.turn)} to move`);

        const now = ctx.now();
        const remaining = state.clocks[color] - (now - (state.turnStartedAt ?? now));
        // The flag timer ends the game; until it runs, a late move is refused.
        if (remaining <= 0) ctx.reject("out of time");

        const from = squareIndex(body.from);
        const to = squareIndex(body.to);
        const piece = pieceAt(state.board, from);
        if (piece === ".") ctx.reject(`no piece on ${body.from}`);
        if (colorOf(piece) !== color) ctx.reject(`the piece on ${body.from} is not yours`);
        if (from === to) ctx.reject("a move must change squares");
        const target = pieceAt(state.board, to);
        if (colorOf(target) === color) ctx.reject(`${body.to} is occupied by your own piece`);
        if (!canMove(state.board, from, to)) ctx.reject(`illegal move ${body.from}-${body.to}`);

        const promotes = piece.toLowerCase() === "p" && (rankOf(to) === 7 || rankOf(to) === 0);
        const promotion = body.promotion ?? null;
        if (promotion !== null && !promotes) {
          ctx.reject("promotion is only for a pawn reaching the last rank");
        }
        const promoteTo = promotes ? (promotion ?? "q") : null;
        const placed =
          promoteTo === null ? piece : color === "w" ? promoteTo.toUpperCase() : promoteTo;

        const san = toSan(state.board, from, to, promoteTo);
        state.board = withPiece(withPiece(state.board, from, "."), to, placed);
        state.history.push(`${body.from}${body.to}${promoteTo ?? ""}`);
        state.halfmoveClock =
          piece.toLowerCase() === "p" || target !== "." ? 0 : state.halfmoveClock + 1;
        if (color === "b") state.fullmoveNumber += 1;
        // Moving instead of answering declines the opponent's draw offer.
        if (state.drawOffer !== null && state.drawOffer !== color) state.drawOffer = null;

        state.clocks[color] = remaining + incrementMs;
        state.turn = other(color);
        state.turnStartedAt = now;
        const ply = state.history.length;
        ctx.emit("move", {
          ply,
          by: color,
          from: body.from,
          to: body.to,
          piece: piece.toUpperCase(),
          captured: target === "." ? null : target.toUpperCase(),
          promotion: promoteTo,
          san,
          fen: chessFen(state),
          clocks: { ...state.clocks },
          turn: state.turn,
          at: now,
        });

        if (target.toLowerCase() === "k") {
          endGame(ctx, winFor(color), "kingCaptured");
        } else {
          ctx.setTimer("flag", state.clocks[state.turn]);
        }
        return { ply, san };
      }),

      resign: message(isEmptyBody, (ctx: Ctx, _body, sender) => {
        const color = seatOf(ctx, sender);
        requirePlaying(ctx);
        endGame(ctx, winFor(other(color)), "resign");
        return { result: ctx.state.result };
      }),

      offerDraw: message(isEmptyBody, (ctx: Ctx, _body, sender) => {
        const state = ctx.state;
        const color = seatOf(ctx, sender);
        requirePlaying(ctx);
        if (state.drawOffer === other(color)) {
          // Both sides offered: that is an agreement.
          endGame(ctx, "1/2-1/2", "agreement");
          return { result: state.result };
        }
        if (state.drawOffer === color) ctx.reject("you already offered a draw");
        state.drawOffer = color;
        ctx.emit("drawOffer", { by: color });
        return null;
      }),

      acceptDraw: message(isEmptyBody, (ctx: Ctx, _body, sender) => {
        const state = ctx.state;
        const color = seatOf(ctx, sender);
        requirePlaying(ctx);
        if (state.drawOffer !== other(color)) ctx.reject("there is no draw offer to accept");
        endGame(ctx, "1/2-1/2", "agreement");
        return { result: state.result };
      }),
    },

    onTimer(ctx, name) {
      const state = ctx.state;
      if (name !== "flag" || state.status !== "playing") return;
      // Recompute from the room clock: the timer only says "look now".
      const remaining = clocksAt(state, ctx.now())[state.turn];
      if (remaining > 0) {
        ctx.setTimer("flag", remaining);
        return;
      }
      endGame(ctx, winFor(other(state.turn)), "time");
    },
  });
}

/** The shipped chess room: type "chess", 5 minutes per side, no increment. */
export const chessRoom = createChessRoom();
