/**
 * Where a room actor is in its life. It only moves forward:
 * activating -> serving -> moving (a clean handover) -> stopped, and any
 * phase may go straight to stopped (a fence lost, fail-stop).
 */
export const Phase = {
  /** Loading its snapshot and journal, fencing the previous owner. */
  Activating: "activating",
  /** Subscribed to its room subject and taking requests. */
  Serving: "serving",
  /** Handing over (passivation, drain, move): requests get ROOM_MOVED, pending ones commit. */
  Moving: "moving",
  /** Writes, emits and answers nothing more of its own. */
  Stopped: "stopped",
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export type Lifecycle =
  | { readonly phase: typeof Phase.Activating | typeof Phase.Serving }
  | { readonly phase: typeof Phase.Moving; readonly reason: string }
  | {
      readonly phase: typeof Phase.Stopped;
      readonly reason: string;
      /**
       * Stopped at the end of a handover: requests still on their way get
       * ROOM_MOVED (retried at once) rather than silence. A room fenced out
       * or fail-stopped answers nothing.
       */
      readonly handedOver: boolean;
    };

/** Why a request is refused now (the room moving or stopped), undefined while it may be served. */
export function refusal(state: Lifecycle): string | undefined {
  return state.phase === Phase.Moving || state.phase === Phase.Stopped ? state.reason : undefined;
}

/** Whether a request arriving on the room subject gets ROOM_MOVED (else it is served, or dropped). */
export function answersMoved(state: Lifecycle): boolean {
  return state.phase === Phase.Moving || (state.phase === Phase.Stopped && state.handedOver);
}
