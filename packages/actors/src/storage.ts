import type { PresenceRecord } from "@rookery/cluster";

/**
 * The storage port of the actor runtime: everything a room actor reads and
 * writes, and nothing else. Implemented on NATS (`src/nats/`: a KV bucket of
 * snapshots, a journal stream, the presence bucket) and in memory
 * (`MemoryRoomStorage`, for unit tests). Both keep the same fencing rules,
 * which the exactly-once guarantee rests on (docs/reliability.md):
 *
 * - every snapshot write is conditional on the revision the writer last
 *   wrote (0: the key must not exist);
 * - every journal append is conditional on the sequence of the room's last
 *   journal message, and carries the id `<writer>:<position>`, so a retried
 *   append that did land is recognised rather than written twice;
 * - the first failed condition latches: the writer throws `OwnershipLostError`
 *   (or `FailStoppedError` once `alive()` is false) from then on, without
 *   touching storage (`isFinalFenceError` from @rookery/cluster tells them
 *   from transient failures, which may be retried).
 *
 * Sequences are positions in one log shared by every room (a stream
 * sequence on NATS): a room's journal messages have increasing, not
 * consecutive, sequences.
 */
export interface RoomStorage {
  /** The room's snapshot bytes and revision (revision 0, no value: none yet). */
  loadSnapshot(room: RoomRef): Promise<StoredSnapshot>;
  /**
   * The room's last journal message (null for a new room). May be served by
   * a lagging replica: the fenced append catches a stale one.
   */
  journalHead(room: RoomRef): Promise<JournalMessage | null>;
  /**
   * The room's journal message at `seq`, read again from the authoritative
   * copy when a replica misses it; null only if it is not stored at all
   * (purged, or never written), which the tail reader turns into a
   * JournalGapError. A failed read of the authoritative copy rejects with a
   * JournalGapError too (the activation is retried on it).
   */
  journalMessage(room: RoomRef, seq: number): Promise<JournalMessage | null>;
  /** A fenced journal writer positioned after `lastSeq` (0 for an empty journal). */
  openJournal(room: RoomRef, lastSeq: number, alive: () => boolean): FencedAppender;
  /** A fenced snapshot writer at `revision` (0: the snapshot must not exist yet). */
  openSnapshot(room: RoomRef, revision: number, alive: () => boolean): FencedWriter;
  /**
   * Whether journal messages a snapshot covers may be purged: false when
   * purging would be unsafe (`journalPurge: "auto"` on a clustered
   * nats-server older than 2.9.18) or is turned off.
   */
  readonly canPurge: boolean;
  /** Deletes the room's journal messages below `keepFromSeq` (the message at it stays). */
  purgeJournal(room: RoomRef, keepFromSeq: number): Promise<void>;
  /** Writes one member's presence record (`rk_presence`). */
  putPresence(room: RoomRef, member: string, record: PresenceRecord): Promise<void>;
  deletePresence(room: RoomRef, member: string): Promise<void>;
  /** Members that have a presence record in the room. */
  listPresence(room: RoomRef): Promise<string[]>;
}

export interface RoomRef {
  type: string;
  id: string;
}

export interface StoredSnapshot {
  value: Uint8Array | null;
  /** Revision to fence the next write on (0 when there is none). */
  revision: number;
}

export interface JournalMessage {
  seq: number;
  data: Uint8Array;
}

/** A conditional writer of one key: see {@link RoomStorage}. */
export interface FencedWriter {
  /** Revision (or sequence) of the last successful write. */
  readonly revision: number;
  /** Writes at the current revision; resolves with the new one. */
  write(data: Uint8Array): Promise<number>;
}

/** How long a journal append keeps retrying a transient failure. */
export interface AppendRetry {
  /** Give up after this long. */
  forMs: number;
  /** Stop retrying once this turns false (the writer was stopped). */
  active: () => boolean;
}

/** A room journal's fenced writer: see {@link RoomStorage}. */
export interface FencedAppender {
  /** Sequence of the last message this writer appended (or was opened at). */
  readonly revision: number;
  /**
   * Appends one message after `revision`; resolves with its sequence. A
   * transient failure is retried (with the same message id) for
   * `retry.forMs`; a failed condition is final.
   */
  append(data: Uint8Array, retry?: AppendRetry): Promise<number>;
}
