import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from "@nats-io/jetstream";
import type { ClusterBuckets, ClusterMember, PresenceRecord } from "@rookery/cluster";
import {
  encodeRecord,
  FencedJournal,
  FencedKey,
  leaseKey,
  presenceKey,
  scanKeys,
} from "@rookery/cluster/internal";
import { parsePresenceKey, presenceRoomFilter } from "@rookery/protocol/internal";
import { JournalGapError } from "../journal-reader";
import type {
  AppendRetry,
  FencedAppender,
  FencedWriter,
  JournalMessage,
  RoomRef,
  RoomStorage,
  StoredSnapshot,
} from "../storage";

/** A presence key listing that takes longer is stopped (see listPresence). */
const PRESENCE_LIST_LIMIT_MS = 3000;

/** A room's presence listing did not finish in time: its stale entries are left for the next activation. */
export class PresenceListTimeoutError extends Error {
  readonly code = "PRESENCE_LIST_TIMEOUT";
  override readonly name = "PresenceListTimeoutError";
  constructor(
    readonly room: string,
    readonly limitMs: number,
  ) {
    super(`listing the presence entries of ${room} took over ${limitMs} ms`);
  }
}

/** `journalPurge` of the runtime options. */
export type JournalPurge = "auto" | "always" | "never";

/**
 * The room storage on NATS: snapshots in the `rk_state` bucket (fenced on
 * the key's revision), journals on one subject per room of the journal
 * stream (fenced on the subject's last sequence, message id
 * `<writer>:<position>`), presence in `rk_presence`. Reads of the journal
 * use direct gets (any replica) and fall back to the stream leader.
 */
export class NatsRoomStorage implements RoomStorage {
  readonly canPurge: boolean;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly buckets: ClusterBuckets,
    journalPurge: JournalPurge,
    server: { version: string; cluster?: string } | undefined,
  ) {
    this.canPurge = purgeIsSafe(journalPurge, server);
  }

  /** The storage of a cluster member's buckets and connection. */
  static async of(member: ClusterMember, journalPurge: JournalPurge): Promise<NatsRoomStorage> {
    const jsm = await jetstreamManager(member.nc);
    return new NatsRoomStorage(member.js, jsm, member.buckets, journalPurge, member.nc.info);
  }

  async loadSnapshot(room: RoomRef): Promise<StoredSnapshot> {
    const entry = await this.buckets.state.get(leaseKey(room.type, room.id));
    return {
      value: entry?.operation === "PUT" ? entry.value : null,
      revision: entry?.revision ?? 0,
    };
  }

  async journalHead(room: RoomRef): Promise<JournalMessage | null> {
    const last_by_subj = this.#subject(room);
    const msg = await this.jsm.direct.getMessage(this.#stream, { last_by_subj }).catch(notFound);
    return msg && { seq: msg.seq, data: msg.data };
  }

  async journalMessage(room: RoomRef, seq: number): Promise<JournalMessage | null> {
    const direct = await this.jsm.direct.getMessage(this.#stream, { seq }).catch(notFound);
    const msg = direct ?? (await this.#fromLeader(room, seq));
    return msg && { seq: msg.seq, data: msg.data };
  }

  openJournal(room: RoomRef, lastSeq: number, alive: () => boolean): FencedAppender {
    const journal = new FencedJournal(this.js, this.#subject(room), lastSeq, alive);
    const last = () => this.#lastStored(room);
    return {
      get revision() {
        return journal.revision;
      },
      append: (data: Uint8Array, retry?: AppendRetry) =>
        journal.append(data, retry && { ...retry, last }),
    };
  }

  openSnapshot(room: RoomRef, revision: number, alive: () => boolean): FencedWriter {
    return new FencedKey(this.buckets.state, leaseKey(room.type, room.id), revision, alive);
  }

  async purgeJournal(room: RoomRef, keepFromSeq: number): Promise<void> {
    await this.jsm.streams.purge(this.#stream, { filter: this.#subject(room), seq: keepFromSeq });
  }

  async putPresence(room: RoomRef, member: string, record: PresenceRecord): Promise<void> {
    await this.buckets.presence.put(presenceKey(room.type, room.id, member), encodeRecord(record));
  }

  async deletePresence(room: RoomRef, member: string): Promise<void> {
    await this.buckets.presence.delete(presenceKey(room.type, room.id, member));
  }

  /** Bounded (scanKeys): a room handing over waits for this listing. */
  async listPresence(room: RoomRef): Promise<string[]> {
    const filter = presenceRoomFilter(room.type, room.id);
    const members: string[] = [];
    const scan = await scanKeys(this.buckets.presence, filter, PRESENCE_LIST_LIMIT_MS);
    try {
      for await (const key of scan.keys) {
        const member = parsePresenceKey(key)?.member;
        if (member) members.push(member);
      }
    } finally {
      scan.done();
    }
    if (scan.timedOut())
      throw new PresenceListTimeoutError(`${room.type}/${room.id}`, PRESENCE_LIST_LIMIT_MS);
    return members;
  }

  get #stream(): string {
    return this.buckets.names.journalStream;
  }

  #subject(room: RoomRef): string {
    return this.buckets.names.journalSubject(room.type, room.id);
  }

  /** A linked message a replica missed: the stream leader has it, or the read fails. */
  async #fromLeader(room: RoomRef, seq: number): Promise<StoredMsg | null> {
    try {
      return await this.jsm.streams.getMessage(this.#stream, { seq });
    } catch (error) {
      throw new JournalGapError(`${room.type}.${room.id}`, seq, { cause: error });
    }
  }

  /**
   * The subject's last message as the stream leader has it (not a direct get,
   * which a lagging replica may answer): its sequence and `Nats-Msg-Id`.
   */
  async #lastStored(room: RoomRef): Promise<{ seq: number; msgID: string | undefined } | null> {
    const last_by_subj = this.#subject(room);
    const msg = await this.jsm.streams.getMessage(this.#stream, { last_by_subj }).catch(notFound);
    if (!msg) return null;
    return { seq: msg.seq, msgID: msg.header?.get("Nats-Msg-Id") || undefined };
  }
}

/** A subject with no message yet: the client answers null, or (older servers) this API error. */
function notFound(error: unknown): null {
  if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound)
    return null;
  throw error;
}

/**
 * nats-server before 2.9.18 replays a subject-filtered purge, when a
 * clustered server restarts, as a compaction of the whole stream up to that
 * point (nats-server issue 4196): every room's journal entries below it
 * would be gone on that server, and lost if it became leader. A single
 * server keeps no raft log, so it is safe there.
 */
export function purgeIsSafe(
  setting: JournalPurge,
  server: { version: string; cluster?: string } | undefined,
): boolean {
  if (setting !== "auto") return setting === "always";
  if (!server) return false;
  if (!server.cluster) return true;
  const [major = 0, minor = 0, patch = 0] = server.version.split(/[.-]/).map(Number);
  return major > 2 || (major === 2 && (minor > 9 || (minor === 9 && patch >= 18)));
}
