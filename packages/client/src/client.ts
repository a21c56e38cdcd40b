import {
  ClientKind,
  closeCodeInfo,
  encodeFrame,
  ErrorCode,
  errorFromFrame,
  formatRoom,
  ServerKind,
  type ClientFrame,
  type CloseCode,
  type ConnectionLimits,
  type ErrorFrame,
  type JoinedFrame,
  type ServerFrame,
  type Value,
} from "@rookery/protocol";
import { backoffDelay } from "./backoff";
import { Connection } from "./connection";
import { Emitter } from "./emitter";
import { ClientClosedError, ConnectionLostError, QueueFullError, RoomLeftError } from "./errors";
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from "./options";
import { Room, RoomStatus, type RoomOwner } from "./room";

export const ConnectionState = {
  Connecting: "connecting",
  Open: "open",
  Reconnecting: "reconnecting",
  Closed: "closed",
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

export type ClientEvents = {
  state: (state: ConnectionState) => void;
  /** Connected and authenticated (first time and after every reconnect). */
  open: (info: { gateway: string; conn: string; member: string }) => void;
  /** The connection dropped; the next attempt starts after `delayMs`. */
  reconnecting: (info: {
    attempt: number;
    delayMs: number;
    code?: number;
    reason?: string;
  }) => void;
  /** Closed for good: by `close()`, or by a close code that forbids reconnecting (4001, 4003, 4013). */
  closed: (info: { code?: number; reason: string }) => void;
};

interface PendingInput {
  seq: number;
  room: Room;
  type: string;
  body: Value;
  resolve: (result: Value | undefined) => void;
  reject: (error: Error) => void;
}

interface PendingRequest {
  resolve: (frame: ServerFrame) => void;
  reject: (error: Error) => void;
}

/**
 * A Rookery client: one connection at a time to some gateway, re-established
 * with backoff after any drop; rooms are resumed and unacknowledged inputs
 * re-sent with their original seq, so the application sees every event once
 * and every input take effect once.
 */
export class RookeryClient extends Emitter<ClientEvents> implements RoomOwner {
  readonly options: ResolvedClientOptions;
  state: ConnectionState = ConnectionState.Connecting;
  member = "";
  gateway = "";
  limits: ConnectionLimits | undefined;
  readonly #rooms = new Map<string, Room>();
  readonly #inputs = new Map<number, PendingInput>();
  readonly #requests = new Map<number, PendingRequest>();
  readonly #joinWaiters = new Map<
    Room,
    { resolve: () => void; reject: (e: Error) => void; promise: Promise<void> }
  >();
  /** Rooms joined (or resumed) on the current connection: their inputs may go out. */
  #ready = new Set<Room>();
  #rejoinTimers = new Set<ReturnType<typeof setTimeout>>();
  #connection: Connection | undefined;
  #seq = 0;
  #ref = 0;
  #attempt = 0;
  #exclude: string[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #firstOpen: { resolve: () => void; reject: (e: Error) => void } | undefined;

  constructor(options: ClientOptions) {
    super();
    this.options = resolveClientOptions(options);
  }

  /** Resolves once connected the first time (it keeps retrying meanwhile). */
  start(): Promise<void> {
    const opened = new Promise<void>((resolve, reject) => (this.#firstOpen = { resolve, reject }));
    this.#connect();
    return opened;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** Joins a room (or returns it if already joined); resolves once the first `joined` arrived. */
  async join(type: string, id: string): Promise<Room> {
    this.#assertOpenable();
    const key = formatRoom({ type, id });
    const existing = this.#rooms.get(key);
    if (existing) {
      await this.#joinWaiters.get(existing)?.promise;
      return existing;
    }
    const room = new Room({ type, id }, this);
    this.#rooms.set(key, room);
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    this.#joinWaiters.set(room, { ...settle, promise });
    // Offline, the join goes out with the next connection.
    if (this.state === ConnectionState.Open) this.#sendJoin(room);
    await promise;
    return room;
  }

  /** Closes for good: pending inputs and requests reject with CLIENT_CLOSED. */
  close(): void {
    this.#shutdown(1000, "closed by the application");
  }

  // ---- RoomOwner ----

  sendInput(room: Room, type: string, body: Value): Promise<Value | undefined> {
    if (this.state === ConnectionState.Closed)
      return Promise.reject(new ClientClosedError("client closed"));
    if (room.status === RoomStatus.Left) return Promise.reject(new RoomLeftError("room was left"));
    if (this.#inputs.size >= this.options.maxQueuedInputs) {
      return Promise.reject(new QueueFullError(this.options.maxQueuedInputs));
    }
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const input: PendingInput = { seq, room, type, body, resolve, reject };
      this.#inputs.set(seq, input);
      if (this.#ready.has(room)) this.#sendInput(input);
    });
  }

  async leaveRoom(room: Room): Promise<void> {
    const key = formatRoom(room.ref);
    if (this.#rooms.get(key) !== room) return;
    this.#rooms.delete(key);
    if (this.#ready.delete(room)) {
      const ref = ++this.#ref;
      const reply = this.#request(ref);
      this.#send({ k: ClientKind.Leave, ref, room: room.ref });
      await reply.catch(() => undefined);
    }
    this.#failInputs(room, new RoomLeftError("room was left"));
    room.markLeft("left");
  }

  // ---- connection lifecycle ----

  #connect(): void {
    const connection = new Connection(this.options, this.#exclude, {
      frame: (frame) => this.#onFrame(frame),
      closed: (code, reason) => this.#onClosed(connection, code, reason),
    });
    this.#connection = connection;
    connection.open().then(
      (welcome) => this.#onOpen(connection, welcome),
      () => undefined, // reported through `closed`
    );
  }

  #onOpen(connection: Connection, welcome: Extract<ServerFrame, { k: "welcome" }>): void {
    if (connection !== this.#connection) return;
    this.#attempt = 0;
    this.#exclude = [];
    this.member = welcome.member;
    this.gateway = welcome.gateway;
    this.limits = welcome.limits;
    this.#ready = new Set();
    this.#setState(ConnectionState.Open);
    for (const room of this.#rooms.values()) this.#sendJoin(room);
    this.emit("open", { gateway: welcome.gateway, conn: welcome.conn, member: welcome.member });
    this.#firstOpen?.resolve();
    this.#firstOpen = undefined;
  }

  #onClosed(connection: Connection, code: number | undefined, reason: string): void {
    if (connection !== this.#connection || this.state === ConnectionState.Closed) return;
    this.#connection = undefined;
    this.#ready = new Set();
    for (const request of this.#requests.values()) request.reject(new ConnectionLostError(reason));
    this.#requests.clear();
    const info = code !== undefined ? closeCodeInfo[code as CloseCode] : undefined;
    if (info && !info.reconnect) return this.#shutdown(code, info.description);
    if (connection.gateway) this.#exclude = [...new Set([...this.#exclude, connection.gateway])];
    const moving = connection.moving;
    const delayMs = moving
      ? 0
      : backoffDelay(this.#attempt++, this.options.backoffBaseMs, this.options.backoffCapMs);
    this.#setState(ConnectionState.Reconnecting);
    this.emit("reconnecting", { attempt: this.#attempt, delayMs, code, reason });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delayMs);
  }

  #shutdown(code: number | undefined, reason: string): void {
    if (this.state === ConnectionState.Closed) return;
    clearTimeout(this.#retryTimer);
    for (const timer of this.#rejoinTimers) clearTimeout(timer);
    this.#rejoinTimers.clear();
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close(1000, reason);
    this.#setState(ConnectionState.Closed);
    const error = new ClientClosedError(`client closed: ${reason}`);
    for (const input of this.#inputs.values()) input.reject(error);
    this.#inputs.clear();
    for (const request of this.#requests.values()) request.reject(error);
    this.#requests.clear();
    for (const room of this.#rooms.values()) room.markLeft("closed");
    for (const waiter of this.#joinWaiters.values()) waiter.reject(error);
    this.#joinWaiters.clear();
    this.#firstOpen?.reject(error);
    this.#firstOpen = undefined;
    this.emit("closed", { code, reason });
  }

  // ---- frames ----

  #onFrame(frame: ServerFrame): void {
    switch (frame.k) {
      case ServerKind.Joined:
        return this.#onJoined(frame);
      case ServerKind.Event:
        return this.#rooms.get(formatRoom(frame.room))?.applyEvent(frame);
      case ServerKind.Ack: {
        const input = this.#inputs.get(frame.seq);
        if (!input) return;
        this.#inputs.delete(frame.seq);
        return input.resolve(frame.result);
      }
      case ServerKind.Left:
        return this.#onLeft(frame);
      case ServerKind.Error:
        return this.#onError(frame);
      default:
        return;
    }
  }

  #onJoined(frame: JoinedFrame): void {
    if (frame.ref !== undefined) this.#settle(frame.ref, frame);
    const room = this.#rooms.get(formatRoom(frame.room));
    if (!room) return;
    room.applyJoined(frame);
    this.#joinWaiters.get(room)?.resolve();
    this.#joinWaiters.delete(room);
    if (this.#ready.has(room)) return;
    // Joined on this connection: what it sent before, and what waited offline, goes out now (same seqs).
    this.#ready.add(room);
    for (const input of this.#inputs.values()) if (input.room === room) this.#sendInput(input);
  }

  #onLeft(frame: Extract<ServerFrame, { k: "left" }>): void {
    if (frame.ref !== undefined) return this.#settle(frame.ref, frame);
    const key = formatRoom(frame.room);
    const room = this.#rooms.get(key);
    if (!room) return;
    this.#rooms.delete(key);
    this.#failInputs(room, new RoomLeftError(`removed from the room: ${frame.reason ?? "closed"}`));
    room.markLeft(frame.reason ?? "closed");
  }

  #onError(frame: ErrorFrame): void {
    const error = errorFromFrame(frame);
    if (frame.ref !== undefined) {
      const request = this.#requests.get(frame.ref);
      this.#requests.delete(frame.ref);
      return request?.reject(error);
    }
    if (frame.seq !== undefined) {
      const input = this.#inputs.get(frame.seq);
      if (!input) return;
      this.#inputs.delete(frame.seq);
      return input.reject(error);
    }
  }

  // ---- sending ----

  #sendJoin(room: Room): void {
    const ref = ++this.#ref;
    this.#request(ref).catch((error: unknown) => this.#joinRefused(room, error));
    const resume = room.status === RoomStatus.Joined ? { since: room.seq, epoch: room.epoch } : {};
    this.#send({ k: ClientKind.Join, ref, room: room.ref, ...resume });
  }

  /**
   * A join answered with an error. A resume the cluster cannot serve right
   * now (a node failing over) is tried again shortly; any other refusal
   * ends the membership. A lost connection is not a refusal: the join is
   * sent again with the next one.
   */
  #joinRefused(room: Room, error: unknown): void {
    if (error instanceof ConnectionLostError || this.#rooms.get(formatRoom(room.ref)) !== room)
      return;
    const code = (error as { code?: string }).code;
    if (room.status === RoomStatus.Joined && code === ErrorCode.ROOM_UNAVAILABLE) {
      const timer = setTimeout(() => {
        this.#rejoinTimers.delete(timer);
        if (this.state === ConnectionState.Open && !this.#ready.has(room)) this.#sendJoin(room);
      }, 500);
      this.#rejoinTimers.add(timer);
      return;
    }
    this.#rooms.delete(formatRoom(room.ref));
    this.#failInputs(room, error as Error);
    room.markLeft("refused");
    this.#joinWaiters.get(room)?.reject(error as Error);
    this.#joinWaiters.delete(room);
  }

  #sendInput(input: PendingInput): void {
    const { room, seq, type, body } = input;
    this.#send({ k: ClientKind.Input, room: room.ref, seq, type, body });
  }

  #request(ref: number): Promise<ServerFrame> {
    return new Promise((resolve, reject) => this.#requests.set(ref, { resolve, reject }));
  }

  #settle(ref: number, frame: ServerFrame): void {
    const request = this.#requests.get(ref);
    this.#requests.delete(ref);
    request?.resolve(frame);
  }

  #send(frame: ClientFrame): void {
    this.#connection?.send(encodeFrame(frame));
  }

  #failInputs(room: Room, error: Error): void {
    for (const [seq, input] of this.#inputs) {
      if (input.room !== room) continue;
      this.#inputs.delete(seq);
      input.reject(error);
    }
  }

  #setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  #assertOpenable(): void {
    if (this.state === ConnectionState.Closed) throw new ClientClosedError("client closed");
  }
}

/** Creates a client and resolves once it is connected. */
export async function connect(options: ClientOptions): Promise<RookeryClient> {
  const client = new RookeryClient(options);
  await client.start();
  return client;
}
