import type { Logger } from "pino";
import type { PresenceRecord } from "@rookery/cluster";
import type { JournalEntry } from "./journal";
import type { RoomCore } from "./room-core";
import type { RoomRef, RoomStorage } from "./storage";

const RETRY_MS = 500;

/**
 * Mirrors one room's membership into `rk_presence`, for readers (operators,
 * other services): the room actor stays the single writer and the source of
 * truth. Writes never block the mailbox: changed members are marked, and
 * one writer loop per room puts or deletes their latest record, so a burst
 * of joins costs one write per member, not one per change. A failed write
 * is retried later; the next activation reconciles whatever a crash left.
 */
export class PresenceMirror {
  readonly #dirty = new Set<string>();
  #running: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #listing: Promise<void> | undefined;

  constructor(
    private readonly storage: RoomStorage,
    private readonly room: RoomRef,
    /** The member's current record, or undefined if it is not in the room. */
    private readonly read: (member: string) => PresenceRecord | undefined,
    /** False once the actor may no longer write (fenced, fail-stopped, handed over). */
    private readonly writable: () => boolean,
    private readonly log: Logger,
  ) {}

  /** Members whose record changed (joined, left, moved, gained or lost the lead). */
  mark(members: Iterable<string>): void {
    for (const member of members) this.#dirty.add(member);
    this.#kick();
  }

  /**
   * At activation: deletes entries of members no longer in the room (ghosts
   * dropped, or a leave the previous owner committed but never mirrored) and
   * rewrites the others. In the background: it must not delay serving.
   */
  reconcile(current: readonly string[]): void {
    this.mark(current);
    this.#listing = this.storage.listPresence(this.room).then(
      (stored) => this.mark(stored.filter((m) => !current.includes(m))),
      (error: unknown) =>
        this.log.warn({ err: String(error), room: this.#label }, "presence listing failed"),
    );
  }

  /** No write from here on (in-flight ones finish). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#dirty.clear();
  }

  /** Resolves when nothing is left to write (tests). */
  async idle(): Promise<void> {
    await this.#listing;
    while (this.#running) await this.#running;
  }

  get #label(): string {
    return `${this.room.type}/${this.room.id}`;
  }

  #kick(): void {
    if (this.#stopped || this.#retry) return;
    this.#running ??= this.#loop().finally(() => (this.#running = undefined));
  }

  async #loop(): Promise<void> {
    while (this.#dirty.size > 0 && !this.#stopped && this.writable()) {
      const batch = [...this.#dirty];
      this.#dirty.clear();
      const results = await Promise.allSettled(batch.map((m) => this.#write(m)));
      const failed = batch.filter((_, i) => results[i]!.status === "rejected");
      if (failed.length === 0) continue;
      this.log.warn(
        { room: this.#label, members: failed.length },
        "presence write failed; retrying",
      );
      for (const m of failed) this.#dirty.add(m);
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, RETRY_MS);
      return;
    }
  }

  async #write(member: string): Promise<void> {
    const record = this.read(member);
    if (record) await this.storage.putPresence(this.room, member, record);
    else await this.storage.deletePresence(this.room, member);
  }
}

/** Joins and leaves change their member's presence record, and a lead change two flags. */
export function presenceMarks(
  entry: JournalEntry,
  leaderBefore: string | null,
  leader: string | null,
): string[] | undefined {
  if (entry.k !== "join" && entry.k !== "leave") return undefined;
  const marks = [typeof entry.member === "string" ? entry.member : entry.member.id];
  if (leader !== leaderBefore) {
    if (leader) marks.push(leader);
    if (leaderBefore) marks.push(leaderBefore);
  }
  return marks;
}

/** A member's `rk_presence` record as the room now holds it; undefined once it left. */
export function presenceRecord(core: RoomCore, id: string): PresenceRecord | undefined {
  const m = core.member(id);
  if (!m) return undefined;
  const { user, name, gateway, gatewayEpoch, conn, joinedAt } = m;
  const leader = core.leader === id;
  return { member: id, user, name, gateway, gatewayEpoch, conn, joinedAt, leader };
}
