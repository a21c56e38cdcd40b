import type { Logger } from "pino";
import { isFinalFenceError } from "@rookery/cluster/internal";
import { encodeSnapshot, type Snapshot } from "./journal";
import type { ResolvedRuntimeOptions } from "./options";
import type { FencedWriter, RoomStorage } from "./storage";

/** What a room's snapshots need from its actor (the actor itself: no closures per room). */
export interface SnapshotSource {
  readonly key: string;
  readonly room: { type: string; id: string };
  readonly durable: boolean;
  readonly stopped: boolean;
  /** The room as of now, for a journal whose last sequence is `journalSeq`. */
  snapshot(journalSeq: number): Snapshot;
  /** The journal's last sequence (0 for an ephemeral room). */
  journalSeq(): number;
  /** A snapshot write failed its fence: another node owns the room. */
  stop(reason: string): void;
}

export interface SnapshotDeps {
  /** Purges what a snapshot covers, when `storage.canPurge` (see `journalPurge`). */
  storage: RoomStorage;
  options: ResolvedRuntimeOptions;
  log: Logger;
}

/** Wait before writing again after a transient snapshot failure. */
const RETRY_MS = 1000;

/** Journal messages a room appends between two purges of what its snapshots cover. */
const PURGE_EVERY = 32;

/**
 * When a room writes its snapshot, and what it then purges from its journal.
 * A durable room snapshots every `snapshotEvery` journaled entries and once
 * it goes quiet (`quietSnapshotMs`), so that whoever activates it next
 * (after a crash, most urgently) replays few journal messages: each one is a
 * round trip, and a node re-homing hundreds of rooms pays them all. An
 * ephemeral room snapshots every `snapshotMs` while changed. Writes share
 * one fence, so they never overlap; a failed fence stops the room.
 */
export class RoomSnapshots {
  /** Changed since the last snapshot. */
  dirty = false;
  /** Entries journaled since the last snapshot began. */
  #since = 0;
  #busy = false;
  #writing: Promise<void> | undefined;
  #quiet: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  /** Journal messages appended since the last purge. */
  #unpurged = 0;
  #purging: Promise<unknown> | undefined;

  constructor(
    private readonly source: SnapshotSource,
    private readonly fence: FencedWriter,
    private readonly deps: SnapshotDeps,
  ) {}

  /** A journal purge in flight, if any (a handover waits for it). */
  get purging(): Promise<unknown> | undefined {
    return this.#purging;
  }

  /** One journal message carrying `entries` was appended. */
  journaled(entries: number): void {
    this.#unpurged++;
    this.#since += entries;
    if (this.#since >= this.deps.options.snapshotEvery) this.#soon();
  }

  /** The room has nothing more to journal for now: snapshot if it stays so. */
  quiet(delay = this.deps.options.quietSnapshotMs): void {
    if (delay <= 0 || this.source.stopped || this.#since === 0) return;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => {
      this.#quiet = undefined;
      void this.write();
    }, delay);
  }

  /** Ephemeral rooms: a snapshot every `snapshotMs` while changed. */
  startPeriodic(): void {
    clearInterval(this.#periodic);
    this.#periodic = setInterval(() => void this.write(), this.deps.options.snapshotMs);
  }

  /** Writes a snapshot after the one in flight, if the room changed. */
  write(): Promise<void> {
    const next = (this.#writing ?? Promise.resolve()).then(() => this.#writeOnce());
    this.#writing = next;
    return next;
  }

  /** Stops the timers. Idempotent. */
  stop(): void {
    clearTimeout(this.#quiet);
    clearInterval(this.#periodic);
    this.#quiet = undefined;
    this.#periodic = undefined;
  }

  /** Past `snapshotEvery` entries: snapshot now, beside the appends that go on. */
  #soon(): void {
    if (this.#busy) return;
    clearTimeout(this.#quiet);
    this.#quiet = undefined;
    void this.write();
  }

  async #writeOnce(): Promise<void> {
    if (!this.dirty || this.source.stopped) return;
    // Entries still being appended may be in this snapshot: numbered, they are
    // skipped when the journal is replayed after it.
    const journalSeq = this.source.journalSeq();
    const included = this.#since;
    this.dirty = false;
    this.#busy = true;
    try {
      await this.fence.write(encodeSnapshot(this.source.snapshot(journalSeq)));
      this.#since = Math.max(0, this.#since - included);
      this.#purge(journalSeq);
    } catch (error) {
      const room = this.source.key;
      if (isFinalFenceError(error)) {
        this.deps.log.error({ err: error, room }, "snapshot write failed its fence: stopping room");
        return this.source.stop(`snapshot: ${(error as Error).name}`);
      }
      // A broker election or a timeout: the room is still ours (its journal
      // or the next periodic write keeps it safe); write again later.
      this.deps.log.warn({ err: error, room }, "snapshot write failed: will retry");
      this.dirty = true;
      if (this.source.durable) this.quiet(RETRY_MS);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Drops journal messages a snapshot made useless, once enough piled up
   * (one API call per PURGE_EVERY appends, not per snapshot). It keeps the
   * message at `journalSeq`: the next append is fenced on the subject's
   * last sequence, which must still exist.
   */
  #purge(journalSeq: number): void {
    const { durable, room, key } = this.source;
    const { storage, log } = this.deps;
    if (!durable || !storage.canPurge || this.#purging || this.#unpurged < PURGE_EVERY) return;
    const appends = this.#unpurged;
    this.#purging = storage
      .purgeJournal(room, journalSeq)
      .then(
        () => (this.#unpurged -= appends),
        (error: unknown) => log.warn({ err: String(error), room: key }, "journal purge failed"),
      )
      .finally(() => (this.#purging = undefined));
  }
}
