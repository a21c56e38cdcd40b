import { FailStoppedError, OwnershipLostError, type PresenceRecord } from "@rookery/cluster";
import { presenceKey } from "@rookery/cluster/internal";
import { randomBytes } from "node:crypto";
import type {
  AppendRetry,
  FencedAppender,
  FencedWriter,
  JournalMessage,
  RoomRef,
  RoomStorage,
  StoredSnapshot,
} from "./storage";

/** A storage failure a test injected (see {@link MemoryRoomStorage.failAppends}): transient. */
export class StorageFaultError extends Error {
  readonly code = "STORAGE_FAULT";
  override readonly name = "StorageFaultError";
}

/** A write's condition failed (wrong revision or last sequence): what NATS answers with 10071. */
class ConditionFailed extends Error {}

/** A transient append failure to inject (see {@link MemoryRoomStorage.failAppends}). */
export interface AppendFault {
  /** The message was stored before the failure (its acknowledgement was lost). */
  landed: boolean;
  /** The duplicate window is lost with it (a stream leader change on nats-server 2.9). */
  forget?: boolean;
}

interface StoredMessage extends JournalMessage {
  msgID: string;
}

/**
 * The room storage in process memory, for unit tests of the actor runtime:
 * the fencing rules of {@link RoomStorage} as the NATS one keeps them (one
 * sequence shared by every room's journal, a duplicate window of message
 * ids, conditions on the last sequence and the snapshot revision), plus
 * faults a test can inject: appends that fail after (or before) landing,
 * and a duplicate window forgotten (what a stream leader change does).
 */
export class MemoryRoomStorage implements RoomStorage {
  canPurge: boolean;
  #seq = 0;
  #revision = 0;
  readonly #journals = new Map<string, StoredMessage[]>();
  readonly #snapshots = new Map<string, { value: Uint8Array; revision: number }>();
  readonly #presence = new Map<string, Map<string, PresenceRecord>>();
  /** Message ids the "stream" recognises as duplicates. */
  readonly #dedupe = new Map<string, number>();
  readonly #faults: AppendFault[] = [];
  /** Snapshot writes to fail transiently: true when stored first (acknowledgement lost). */
  readonly #snapshotFaults: boolean[] = [];

  constructor(options: { canPurge?: boolean } = {}) {
    this.canPurge = options.canPurge ?? true;
  }

  /**
   * The next `count` appends fail transiently. `landed`: after being stored
   * (an acknowledgement lost); `forget`: the duplicate window is lost too
   * (a stream leader change on nats-server 2.9).
   */
  failAppends(count: number, fault: AppendFault): void {
    for (let i = 0; i < count; i++) this.#faults.push(fault);
  }

  /** The next `count` snapshot writes fail transiently; `landed`: after being stored. */
  failSnapshotWrites(count: number, fault: { landed: boolean }): void {
    for (let i = 0; i < count; i++) this.#snapshotFaults.push(fault.landed);
  }

  /** Forgets every message id: a retry no longer meets its duplicate (a leader change). */
  forgetDuplicates(): void {
    this.#dedupe.clear();
  }

  /** The room's journal messages, oldest first (tests). */
  journal(room: RoomRef): readonly JournalMessage[] {
    return this.#journals.get(key(room)) ?? [];
  }

  /** Deletes one journal message, as a lost or purged one would be (tests). */
  deleteMessage(room: RoomRef, seq: number): void {
    const log = this.#journals.get(key(room)) ?? [];
    this.#journals.set(
      key(room),
      log.filter((m) => m.seq !== seq),
    );
  }

  async loadSnapshot(room: RoomRef): Promise<StoredSnapshot> {
    const stored = this.#snapshots.get(key(room));
    return stored
      ? { value: stored.value, revision: stored.revision }
      : { value: null, revision: 0 };
  }

  async journalHead(room: RoomRef): Promise<JournalMessage | null> {
    return copy(this.#journals.get(key(room))?.at(-1));
  }

  async journalMessage(room: RoomRef, seq: number): Promise<JournalMessage | null> {
    return copy(this.#journals.get(key(room))?.find((m) => m.seq === seq));
  }

  openJournal(room: RoomRef, lastSeq: number, alive: () => boolean): FencedAppender {
    const publish = (data: Uint8Array, msgID: string, expectedLast: number) =>
      this.#publish(room, data, msgID, expectedLast);
    const last = () => this.#journals.get(key(room))?.at(-1);
    return new MemoryJournal(`${key(room)} journal`, lastSeq, alive, publish, last);
  }

  openSnapshot(room: RoomRef, revision: number, alive: () => boolean): FencedWriter {
    const write = async (value: Uint8Array, expected: number) => {
      const landed = this.#snapshotFaults.shift();
      if (landed === false) throw new StorageFaultError("injected snapshot write failure");
      const current = this.#snapshots.get(key(room))?.revision ?? 0;
      if (current !== expected) throw new ConditionFailed();
      const next = ++this.#revision;
      this.#snapshots.set(key(room), { value: value.slice(), revision: next });
      if (landed) throw new StorageFaultError("injected failure after the snapshot landed");
      return next;
    };
    const stored = () => this.#snapshots.get(key(room));
    return new MemorySnapshotFence(`${key(room)} snapshot`, revision, alive, write, stored);
  }

  async purgeJournal(room: RoomRef, keepFromSeq: number): Promise<void> {
    const log = this.#journals.get(key(room)) ?? [];
    this.#journals.set(
      key(room),
      log.filter((m) => m.seq >= keepFromSeq),
    );
  }

  async putPresence(room: RoomRef, member: string, record: PresenceRecord): Promise<void> {
    presenceKey(room.type, room.id, member); // refuses what NATS could not key (InvalidNameError)
    const members = this.#presence.get(key(room)) ?? new Map<string, PresenceRecord>();
    this.#presence.set(key(room), members.set(member, structuredClone(record)));
  }

  async deletePresence(room: RoomRef, member: string): Promise<void> {
    this.#presence.get(key(room))?.delete(member);
  }

  async listPresence(room: RoomRef): Promise<string[]> {
    return [...(this.#presence.get(key(room))?.keys() ?? [])];
  }

  /** A member's presence record (tests). */
  presence(room: RoomRef, member: string): PresenceRecord | undefined {
    return this.#presence.get(key(room))?.get(member);
  }

  /** One conditional publish: a known message id answers its sequence, as JetStream's duplicate window does. */
  #publish(room: RoomRef, data: Uint8Array, msgID: string, expectedLast: number): number {
    const duplicate = this.#dedupe.get(msgID);
    if (duplicate !== undefined) return duplicate;
    const fault = this.#faults.shift();
    if (fault && !fault.landed) throw new StorageFaultError("injected append failure");
    const log = this.#journals.get(key(room)) ?? [];
    if ((log.at(-1)?.seq ?? 0) !== expectedLast) throw new ConditionFailed();
    const seq = ++this.#seq;
    this.#journals.set(key(room), [...log, { seq, data: data.slice(), msgID }]);
    this.#dedupe.set(msgID, seq);
    if (fault?.forget) this.forgetDuplicates();
    if (fault) throw new StorageFaultError("injected failure after the append landed");
    return seq;
  }
}

/**
 * A conditional writer (the rules of `Fence` in @rookery/cluster): the first
 * failed condition latches as OwnershipLostError, unless `ours` finds that
 * the "conflicting" write is this writer's own earlier attempt.
 */
class MemoryFence implements FencedWriter {
  #lost: Error | undefined;

  constructor(
    private readonly target: string,
    protected position: number,
    private readonly alive: () => boolean,
    protected readonly writeAt: (data: Uint8Array, position: number) => Promise<number>,
  ) {}

  get revision(): number {
    return this.position;
  }

  write(data: Uint8Array): Promise<number> {
    return this.guarded(() => this.writeAt(data, this.position));
  }

  protected async guarded(
    write: () => Promise<number>,
    ours?: () => number | undefined,
  ): Promise<number> {
    if (this.#lost) throw this.#lost;
    if (!this.alive()) throw (this.#lost = new FailStoppedError(this.target));
    try {
      return (this.position = await write());
    } catch (error) {
      if (!(error instanceof ConditionFailed)) throw error;
      const landed = ours?.();
      if (landed !== undefined) return (this.position = landed);
      throw (this.#lost = new OwnershipLostError(this.target, { cause: error }));
    }
  }
}

/**
 * Fenced snapshot writes with the rule of `FencedKey` in @rookery/cluster: a
 * write that failed without an answer may have been stored; when the next
 * write meets it as the key's last revision (same bytes), it writes after it.
 */
class MemorySnapshotFence extends MemoryFence {
  #unanswered: Uint8Array | undefined;

  constructor(
    target: string,
    revision: number,
    alive: () => boolean,
    write: (data: Uint8Array, position: number) => Promise<number>,
    private readonly stored: () => { value: Uint8Array; revision: number } | undefined,
  ) {
    super(target, revision, alive, write);
  }

  override write(data: Uint8Array): Promise<number> {
    return this.guarded(async () => {
      for (;;) {
        try {
          const revision = await this.writeAt(data, this.position);
          this.#unanswered = undefined;
          return revision;
        } catch (error) {
          if (!(error instanceof ConditionFailed)) this.#unanswered = data;
          if (!(error instanceof ConditionFailed) || !this.#unansweredLanded()) throw error;
        }
      }
    });
  }

  /** The last revision is this writer's unanswered write: the position moves to it. */
  #unansweredLanded(): boolean {
    const unanswered = this.#unanswered;
    this.#unanswered = undefined;
    const last = this.stored();
    if (!unanswered || !last || last.revision <= this.position) return false;
    if (Buffer.compare(last.value, unanswered) !== 0) return false;
    this.position = last.revision;
    return true;
  }
}

/** Fenced appends with the retry rules of `FencedJournal` in @rookery/cluster. */
class MemoryJournal extends MemoryFence implements FencedAppender {
  readonly #writer = randomBytes(6).toString("base64url");

  constructor(
    target: string,
    lastSeq: number,
    alive: () => boolean,
    private readonly publish: (data: Uint8Array, msgID: string, expectedLast: number) => number,
    /** The journal's last message as the authoritative copy has it. */
    private readonly last: () => StoredMessage | undefined,
  ) {
    super(target, lastSeq, alive, () => Promise.reject(new Error("a journal is append-only")));
  }

  async append(data: Uint8Array, retry?: AppendRetry): Promise<number> {
    const msgID = `${this.#writer}:${this.position}`;
    const deadline = performance.now() + (retry?.forMs ?? 0);
    let retried = false;
    // Only a retry can meet its own earlier attempt (a duplicate window forgotten).
    const ours = () => {
      const last = retried ? this.last() : undefined;
      return last?.msgID === msgID ? last.seq : undefined;
    };
    for (let pause = 5; ; pause = Math.min(pause * 2, 50), retried = true) {
      try {
        const write = async () => this.publish(data, msgID, this.position);
        return await this.guarded(write, ours);
      } catch (error) {
        const final = error instanceof OwnershipLostError || error instanceof FailStoppedError;
        const again = retry && retry.active() && performance.now() + pause < deadline;
        if (final || !again) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }
}

function key(room: RoomRef): string {
  return `${room.type}.${room.id}`;
}

function copy(msg: StoredMessage | undefined): JournalMessage | null {
  return msg ? { seq: msg.seq, data: msg.data } : null;
}
