import { Packr } from "msgpackr";
import type { Value } from "@rookery/protocol";
import type { MemberInfo } from "@rookery/protocol/internal";
import type { StoredDedupe } from "./dedupe";

/**
 * What a durable room journals: every input that changed it (and every
 * input it refused, for the dedupe window), in order, with
 * the time the handler saw and its number `n` among the room's applied
 * entries. Replaying the entries after the last snapshot through the same
 * (deterministic) handlers rebuilds the state exactly; entries numbered at or
 * below the snapshot's `n` are already in it and are skipped, so a snapshot
 * may be taken while later entries are still being appended.
 */
export type JournalEntry = (
  | { k: "join"; member: MemberInfo }
  | { k: "leave"; member: string; reason: string }
  | { k: "input"; member: string; seq: number; type: string; body: Value }
  /** An input the room's logic refused: journaled so a resend gets the same refusal after failover. */
  | { k: "reject"; member: string; seq: number; code: string; message: string }
  | { k: "timer"; name: string }
  | { k: "tick" }
) & { at: number; n?: number };

/** Written first by every activation: it fences the previous owner's appends. Never numbered. */
export type EpochMarker = { k: "epoch"; epoch: number; node: string; at: number; n?: never };

/** What one journal message's batch may hold. */
export type JournalRecord = JournalEntry | EpochMarker;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/**
 * One journal message: a group-committed batch of entries, plus the stream
 * sequence of the room's previous journal message. The back link lets an
 * activation walk from the subject's last message (an indexed lookup) to its
 * snapshot by exact sequence, instead of scanning the stream for the next
 * message on a subject, which nats-server 2.9 does linearly.
 */
export interface JournalBatch {
  /** Previous journal message of this room (0 for the first). */
  p: number;
  e: JournalRecord[];
}

export function encodeBatch(prev: number, entries: JournalRecord[]): Uint8Array {
  return packr.pack({ p: prev, e: entries } satisfies JournalBatch);
}

export function decodeBatch(bytes: Uint8Array): JournalBatch {
  const value = packr.unpack(bytes) as Partial<JournalBatch> | null;
  if (!value || typeof value.p !== "number" || !Array.isArray(value.e)) {
    throw new Error("journal message is not a batch");
  }
  return value as JournalBatch;
}

/** A member as the room stores it: what room code sees plus where its socket is. */
export interface StoredMember extends MemberInfo {
  joinedAt: number;
}

/** The fenced `rk_state` value of a room. */
export interface Snapshot {
  v: 1;
  epoch: number;
  state: Value;
  members: StoredMember[];
  leader: string | null;
  /** Last room event sequence number. */
  seq: number;
  /** Each member's dedupe window (outcomes of its recent inputs): survives failover. */
  dedupe: Record<string, StoredDedupe>;
  /** Armed timers: name -> due time (ms since epoch). */
  timers: Record<string, number>;
  /** State of the deterministic random generator. */
  rng: number;
  /** Journal stream sequence this snapshot includes (entries after it are replayed). */
  journalSeq: number;
  /** Number of entries applied: journal entries numbered up to this are in the snapshot. */
  n: number;
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  return packr.pack(snapshot);
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const value = packr.unpack(bytes) as Partial<Snapshot> | null;
  if (!value || value.v !== 1 || !Array.isArray(value.members) || typeof value.seq !== "number") {
    throw new Error("not a room snapshot");
  }
  return value as Snapshot;
}
