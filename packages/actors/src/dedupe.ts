import type { Value } from "@rookery/protocol";

/**
 * What a room answered to one input: acknowledged (with the handler's result,
 * if any) or rejected by the room's logic. Kept so that a resend of the same
 * `(member, seq)` gets the same answer, after a failover too.
 */
export type Outcome = { ok: true; result?: Value } | { ok: false; code: string; message: string };

/**
 * One member's dedupe window, as stored in snapshots: the outcomes of its
 * last inputs, and the floor below which outcomes are forgotten. Replaced,
 * never edited, so a checkpoint can hold the previous window by reference.
 */
export interface DedupeWindow {
  /** Highest seq that has left the window. */
  f: number;
  /** Seqs in the window, oldest processed first (not necessarily sorted). */
  s: number[];
  /** Outcome of each seq in `s`, same index: null is an ack without result. */
  o: StoredOutcome[];
}

/** Compact form of an {@link Outcome}: most acks carry no result. */
export type StoredOutcome = null | { r: Value } | { e: string; m: string };

/** What the room knows of an input before processing it. */
export type Known =
  | { kind: "new" }
  | { kind: "seen"; outcome: Outcome }
  /** At or below the floor and not in the window: its outcome is forgotten. */
  | { kind: "expired" };

/**
 * Snapshots written before the window existed stored only the highest seq
 * processed: read it as a floor (everything at or below it is forgotten).
 */
export type StoredDedupe = DedupeWindow | number;

export function lookup(window: StoredDedupe | undefined, seq: number): Known {
  if (window === undefined) return { kind: "new" };
  if (typeof window === "number") return seq <= window ? { kind: "expired" } : { kind: "new" };
  const index = window.s.lastIndexOf(seq);
  if (index >= 0) return { kind: "seen", outcome: expand(window.o[index]!) };
  return seq <= window.f ? { kind: "expired" } : { kind: "new" };
}

/** The window after recording `seq`'s outcome, keeping the `size` most recent. */
export function record(
  window: StoredDedupe | undefined,
  seq: number,
  outcome: Outcome,
  size: number,
): DedupeWindow {
  const base: DedupeWindow =
    window === undefined
      ? { f: 0, s: [], o: [] }
      : typeof window === "number"
        ? { f: window, s: [], o: [] }
        : window;
  const drop = Math.max(0, base.s.length + 1 - size);
  let f = base.f;
  for (let i = 0; i < drop; i++) f = Math.max(f, base.s[i]!);
  // slice + concat gives arrays of exactly the window's length: spreading
  // then pushing or shifting left room for growth, which every member's
  // window kept for good (about 250 bytes per array).
  const s = base.s.slice(drop).concat(seq);
  const o = base.o.slice(drop).concat([compact(outcome)]);
  return { f, s, o };
}

function compact(outcome: Outcome): StoredOutcome {
  if (!outcome.ok) return { e: outcome.code, m: outcome.message };
  return outcome.result === undefined ? null : { r: outcome.result };
}

function expand(stored: StoredOutcome): Outcome {
  if (stored === null) return { ok: true };
  if ("e" in stored) return { ok: false, code: stored.e, message: stored.m };
  return { ok: true, result: stored.r };
}
