/**
 * The example room types that ship with Rookery: a chess game with clocks,
 * a shared party queue and tic-tac-toe. Every export that is a room
 * definition is hosted by the node service (it loads this module), so export
 * room definitions only once each, and nothing else shaped like one.
 *
 * ```ts
 * import { chessRoom, createChessRoom, partyQueueRoom, ticTacToeRoom } from "@rookery/examples";
 *
 * // The shipped types: "chess" (5 minutes per side), "party" and "tictactoe" (30 s a move).
 * const rooms = [chessRoom, partyQueueRoom, ticTacToeRoom];
 *
 * // A blitz variant under its own type name: 3 minutes + 2 s per move.
 * export const blitz = createChessRoom({ type: "blitz", initialTimeMs: 180_000, incrementMs: 2_000 });
 *
 * // A client then sends inputs such as
 * //   chess: move {from: "e2", to: "e4"}, resign {}, offerDraw {}, acceptDraw {}
 * //   party: add {title: "Song 2"}, move {id: "item-1", to: 0}, remove {id}, skip {}
 * ```
 *
 * See docs/rooms.md for how these rooms are written.
 */
export { chessFen, chessRoom, createChessRoom } from "./chess-room";
export type {
  ChessClocks,
  ChessColor,
  ChessEmptyBody,
  ChessEndReason,
  ChessEvents,
  ChessFile,
  ChessMessages,
  ChessMoveBody,
  ChessOptions,
  ChessPromotion,
  ChessRank,
  ChessResult,
  ChessSquare,
  ChessState,
  ChessStatus,
} from "./chess-room";
export { PARTY_QUEUE_LIMITS, partyQueueRoom } from "./party-queue-room";
export type {
  PartyQueueEvents,
  PartyQueueItem,
  PartyQueueMessages,
  PartyQueueSkipBody,
  PartyQueueState,
  PartyQueueView,
} from "./party-queue-room";
export { createTicTacToeRoom, ticTacToeRoom } from "./tic-tac-toe-room";
export type {
  TicTacToeEnd,
  TicTacToeEvents,
  TicTacToeMark,
  TicTacToeOptions,
  TicTacToeState,
} from "./tic-tac-toe-room";
