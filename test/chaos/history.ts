/**
 * What one chaos run records, as plain data: the checker is a pure function
 * of it. Times are milliseconds since the run's load started.
 */

/** Final error codes after which an input had no effect (docs/protocol.md §6). */
export const FINAL_CODES: ReadonlySet<string> = new Set([
  "INPUT_REJECTED",
  "NOT_JOINED",
  "RATE_LIMITED",
  "SEQ_EXPIRED",
  "INVALID_FIELD",
  "FRAME_TOO_LARGE",
  // Raised by the SDK before the input was ever sent.
  "QUEUE_FULL",
]);

export type Outcome =
  | { kind: "ack"; at: number; result: unknown }
  | {
      kind: "error";
      at: number;
      code: string;
      message: string;
      /** The error class: tells the SDK's own timeout (InputTimeoutError) from a server answer. */
      name?: string;
    }
  | { kind: "pending" };

/** One `append` a client made, and what became of it. */
export interface InputRecord {
  /** Member id of the sender. */
  client: string;
  room: string;
  tag: string;
  /** The room is asked to refuse it. */
  reject: boolean;
  sentAt: number;
  outcome: Outcome;
}

/** What a client saw of its room, in the order it saw it. */
export type ViewEntry =
  /** A `joined` frame (answer, resume or resync) as it came off the socket. */
  | { k: "joined"; at: number; epoch: number; seq: number; mode: string }
  /** The SDK replaced the view: `items` is the snapshot state. */
  | { k: "snapshot"; at: number; items: string[] }
  /** An event the SDK applied (after its own seq dedupe). */
  | { k: "event"; at: number; seq: number; type: string; tag?: string; i?: number };

export interface ClientLog {
  client: string;
  room: string;
  entries: ViewEntry[];
  /** Connected and joined to its room when the run ended. */
  inRoomAtEnd: boolean;
  /** The member list the client's SDK held at the end. */
  membersAtEnd: string[];
}

/** One slot of the fault schedule: from injection to the end of its recovery time. */
export interface FaultWindow {
  kind: string;
  start: number;
  /** All faults healed. */
  healed: number;
  end: number;
  detail: string;
}

export interface LeaseView {
  owner: string | null;
  ownerEpoch: string | null;
  roomEpoch: number;
}

/** A room as read after healing and quiescing, by a fresh client and from the KV buckets. */
export interface FinalRoom {
  room: string;
  /** `state.items` as the fresh client saw it. */
  items: string[];
  /** Members as the fresh client saw them (the auditor included). */
  members: string[];
  /** Members in the presence bucket; undefined if it could not be read. */
  presence?: string[];
  /** Presence keys of the room whose last operation was a delete or purge (diagnostics). */
  presenceRemoved?: string[];
  lease?: LeaseView;
}

export interface History {
  seed: number;
  /** Length of the load, ms. */
  loadMs: number;
  inputs: InputRecord[];
  clients: ClientLog[];
  faults: FaultWindow[];
  final: FinalRoom[];
  /** Member id of the fresh client that read the final state. */
  auditor: string;
  /** `<node id>/<heartbeat epoch>` of every node live at the end. */
  liveNodes: string[];
  /** Acks the clients got with `dup: true` (resends answered from a dedupe window). */
  dupAcks: number;
  /** Processes that exited without being killed by the nemesis. */
  unexpectedExits: string[];
}

/** Every failure the checker can report. */
export type ViolationKind =
  | "acked-missing"
  | "duplicate"
  | "ack-index"
  | "final-error-applied"
  | "phantom"
  | "wrong-outcome"
  | "unresolved"
  | "stuck"
  | "divergent-view"
  | "not-converged"
  | "ghost"
  | "presence-mismatch"
  | "epoch-regress"
  | "conflicting-event"
  | "lease"
  | "process-exit";

export interface Violation {
  kind: ViolationKind;
  room?: string;
  client?: string;
  tag?: string;
  detail: string;
}

/** Counts over the inputs sent during one fault kind's windows (or outside any: "calm"). */
export interface AvailabilityRow {
  kind: string;
  windows: number;
  sent: number;
  acked: number;
  rejected: number;
  /** Final errors other than the deliberate INPUT_REJECTED, by code. */
  errors: Record<string, number>;
  unknown: number;
  /** Outcome-unknown rejections by error class (InputTimeoutError: no answer at all in time). */
  unknownBy: Record<string, number>;
  pending: number;
  /** Longest time any room went without an ack, over the windows. */
  maxStallMs: number;
  /** Longest time any one client went without an ack, over the windows. */
  maxClientStallMs: number;
  /** Slowest ack, send to outcome. */
  maxLatencyMs: number;
}

export interface CheckReport {
  violations: Violation[];
  availability: AvailabilityRow[];
  stats: {
    inputs: number;
    acked: number;
    rejected: number;
    finalErrors: number;
    unknown: number;
    unknownApplied: number;
    pending: number;
    seqExpired: number;
    snapshots: number;
    dupAcks: number;
  };
}

/** Outcome class of an input, as the checker reasons about it. */
export function outcomeClass(outcome: Outcome): "ack" | "final" | "unknown" | "pending" {
  if (outcome.kind === "ack") return "ack";
  if (outcome.kind === "pending") return "pending";
  return FINAL_CODES.has(outcome.code) ? "final" : "unknown";
}
