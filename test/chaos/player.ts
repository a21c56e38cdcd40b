/**
 * Clients of the chaos load: real SDK clients that append tags to their
 * room at a steady pace and record every outcome and everything they saw.
 */
import { connect, type Room, type RookeryClient } from "@rookery/client";
import { formatRoom, type ServerFrame } from "@rookery/protocol";
import { token } from "../../services/gateway/test/harness";
import type { ClientLog, InputRecord, ViewEntry } from "./history";
import { CHAOS_ROOM_TYPE, type ChaosLedgerState } from "./ledger-room";
import type { Prng } from "./prng";
import { SocketTap } from "./tapped-socket";

/** Share of inputs the room is asked to refuse. */
const REJECT_SHARE = 0.1;

export type Clock = () => number;

/** What one client saw of one room, in order. */
export class RoomRecorder {
  readonly entries: ViewEntry[] = [];
  room: Room | undefined;

  constructor(
    readonly roomId: string,
    private readonly clock: Clock,
  ) {}

  /** A frame off the socket: only `joined` is kept raw (epoch, seq, mode). */
  onFrame(frame: Extract<ServerFrame, { k: "joined" }>): void {
    const { epoch, seq, mode } = frame;
    this.entries.push({ k: "joined", at: this.clock(), epoch, seq, mode });
  }

  /** Follows the SDK's view of the room from its first `joined` on. */
  attach(room: Room): void {
    this.room = room;
    this.#snapshot(room.state);
    room.on("snapshot", (state) => this.#snapshot(state));
    room.on("event", (e) => {
      const body = e.body as { tag?: unknown; i?: unknown } | null;
      const entry: ViewEntry = { k: "event", at: this.clock(), seq: e.seq, type: e.type };
      if (e.type === "appended" && typeof body?.tag === "string" && typeof body.i === "number") {
        entry.tag = body.tag;
        entry.i = body.i;
      }
      this.entries.push(entry);
    });
  }

  /** The view the SDK holds now: last snapshot plus the appends after it. */
  items(): string[] {
    let items: string[] = [];
    for (const e of this.entries) {
      if (e.k === "snapshot") items = [...e.items];
      else if (e.k === "event" && e.tag !== undefined) items.push(e.tag);
    }
    return items;
  }

  #snapshot(state: unknown): void {
    const items = (state as ChaosLedgerState | undefined)?.items ?? [];
    this.entries.push({ k: "snapshot", at: this.clock(), items: [...items] });
  }
}

/** One SDK client with a recorder per room it joins. */
export class Watcher {
  readonly recorders = new Map<string, RoomRecorder>();
  readonly tap: SocketTap;
  client!: RookeryClient;
  /** Acks answered from the room's dedupe window (`dup: true`): resends that took no effect. */
  dupAcks = 0;

  constructor(
    readonly user: string,
    readonly clock: Clock,
  ) {
    this.tap = new SocketTap((frame) => this.#onFrame(frame));
  }

  async connect(discoveryUrl: string[], url?: string): Promise<void> {
    this.client = await connect({
      url,
      discoveryUrl,
      token: () => token(this.user),
      backoffBaseMs: 100,
      backoffCapMs: 1000,
      WebSocket: this.tap.constructorFor(),
    });
    // A pinned url would bring the client back to the same gateway forever: discover from now on.
    (this.client.options as { url?: string }).url = undefined;
  }

  async join(roomId: string): Promise<RoomRecorder> {
    const recorder = new RoomRecorder(roomId, this.clock);
    this.recorders.set(roomId, recorder);
    recorder.attach(await this.client.join(CHAOS_ROOM_TYPE, roomId));
    return recorder;
  }

  inRoom(roomId: string): boolean {
    const room = this.recorders.get(roomId)?.room;
    return this.client.state === "open" && room?.status === "joined";
  }

  log(roomId: string): ClientLog {
    const recorder = this.recorders.get(roomId)!;
    return {
      client: this.client.member,
      room: roomId,
      entries: recorder.entries,
      inRoomAtEnd: this.inRoom(roomId),
      membersAtEnd: (recorder.room?.members ?? []).map((m) => m.id),
    };
  }

  #onFrame(frame: ServerFrame): void {
    if (frame.k === "ack" && frame.dup === true) this.dupAcks += 1;
    if (frame.k !== "joined" || frame.room.type !== CHAOS_ROOM_TYPE) return;
    this.recorders.get(frame.room.id)?.onFrame(frame);
  }
}

/** A watcher of one room that also sends `append` every `paceMs` or so. */
export class Player extends Watcher {
  readonly inputs: InputRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #n = 0;
  #pending = 0;

  constructor(
    readonly index: number,
    readonly roomId: string,
    clock: Clock,
    private readonly rng: Prng,
  ) {
    super(`p${index}`, clock);
  }

  get pending(): number {
    return this.#pending;
  }

  get key(): string {
    return formatRoom({ type: CHAOS_ROOM_TYPE, id: this.roomId });
  }

  start(paceMs: number): void {
    const next = () => {
      this.#send();
      this.#timer = setTimeout(next, paceMs * (0.5 + this.rng.next()));
    };
    this.#timer = setTimeout(next, paceMs * this.rng.next());
  }

  stop(): void {
    clearTimeout(this.#timer);
  }

  #send(): void {
    const room = this.recorders.get(this.roomId)?.room;
    if (room === undefined) return;
    const tag = `p${this.index}.${++this.#n}`;
    const reject = this.rng.next() < REJECT_SHARE;
    const record: InputRecord = {
      client: this.client.member,
      room: this.roomId,
      tag,
      reject,
      sentAt: this.clock(),
      outcome: { kind: "pending" },
    };
    this.inputs.push(record);
    this.#pending += 1;
    room
      .send("append", { tag, reject })
      .then(
        (result) => {
          record.outcome = { kind: "ack", at: this.clock(), result };
        },
        (error: unknown) => {
          const { code, message, name } = error as Record<string, unknown>;
          const at = this.clock();
          const [c, m, n] = [code, message, name].map(String) as [string, string, string];
          record.outcome = { kind: "error", at, code: c, message: m, name: n };
        },
      )
      .finally(() => {
        this.#pending -= 1;
      });
  }
}
