import {
  ClientKind,
  closeCodeInfo,
  DEFAULT_DECODE_LIMITS,
  decodeClientFrame,
  encodeFrame,
  ErrorCode,
  errorFromFrame,
  formatRoom,
  InvalidFieldError,
  patterns,
  ServerKind,
  type AckFrame,
  type ClientFrame,
  type CloseCode,
  type ConnectionLimits,
  type ErrorFrame,
  type JoinedFrame,
  type ServerFrame,
  type Value,
  type WelcomeFrame,
} from "@rookery/protocol";
import { backoffDelay, RetryTimers } from "./backoff";
import { Connection } from "./connection";
import { Emitter } from "./emitter";
import {
  ClientClosedError,
  ConnectionLostError,
  QueueFullError,
  RoomLeftError,
  SeqExpiredError,
} from "./errors";
import { PendingInputs, type PendingInput } from "./inputs";
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from "./options";
import { Room, RoomStatus, type RoomOwner } from "./room";
import { AckWatchdog } from "./watchdog";

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

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

interface PendingRequest extends Omit<Deferred<ServerFrame>, "promise"> {
  sentAt: number;
}

/** Answers to an input that say nothing about its effect: ask again, same seq (protocol.md §6). */
const OUTCOME_UNKNOWN: ReadonlySet<string> = new Set([
  ErrorCode.ROOM_UNAVAILABLE,
  ErrorCode.INTERNAL,
]);
/** Refusals of a resume that pass (a node failing over, a burst after reconnecting): try again. */
const RESUME_RETRYABLE: ReadonlySet<string> = new Set([
  ErrorCode.ROOM_UNAVAILABLE,
  ErrorCode.INTERNAL,
  ErrorCode.RATE_LIMITED,
]);
/** Backoff bounds of the same-seq re-sends and of resume retries. */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 2000;

/**
 * A Rookery client: one connection at a time to some gateway, re-established
 * with backoff after any drop; rooms are resumed and unacknowledged inputs
 * re-sent with their original seq, so the application sees every event once
 * and every input take effect once. Every promise it hands out settles: with
 * an answer, or with a typed error (close, leave, refusal, timeout).
 */
export class RookeryClient extends Emitter<ClientEvents> implements RoomOwner {
  readonly options: ResolvedClientOptions;
  state: ConnectionState = ConnectionState.Connecting;
  member = "";
  gateway = "";
  limits: ConnectionLimits | undefined;
  readonly #rooms = new Map<string, Room>();
  readonly #inputs: PendingInputs;
  readonly #requests = new Map<number, PendingRequest>();
  readonly #joinWaiters = new Map<Room, Deferred<void>>();
  /** Rooms joined (or resumed) on the current connection. */
  #joined = new Set<Room>();
  /** Rooms whose join is in flight on the current connection. */
  #joining = new Set<Room>();
  /** Rooms whose inputs wait to be re-sent after an "outcome unknown" answer. */
  readonly #inputRetries = new RetryTimers<Room>(RETRY_BASE_MS, RETRY_CAP_MS);
  readonly #rejoins = new RetryTimers<Room>(RETRY_BASE_MS, RETRY_CAP_MS);
  readonly #watchdog: AckWatchdog;
  #connection: Connection | undefined;
  #seq = 0;
  #ref = 0;
  #attempt = 0;
  #exclude: string[] = [];
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #started: Deferred<void> | undefined;

  constructor(options: ClientOptions) {
    super();
    this.options = resolveClientOptions(options);
    this.#inputs = new PendingInputs(this.options.inputTimeoutMs);
    this.#watchdog = new AckWatchdog(
      this.options.ackDeadlineMs,
      () => this.#oldestUnanswered(),
      () => this.#connection?.probe(this.options.pingDeadlineMs),
    );
  }

  /** Resolves once connected the first time (it keeps retrying meanwhile); calling it again is harmless. */
  start(): Promise<void> {
    if (this.#started) return this.#started.promise;
    if (this.state === ConnectionState.Closed) {
      return Promise.reject(new ClientClosedError("client closed"));
    }
    this.#started = deferred();
    this.#connect();
    return this.#started.promise;
  }

  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /**
   * Joins a room (or returns it if already joined); resolves once the first
   * `joined` arrived. `join<typeof chessRoom>("chess", id)` types the room's
   * `send` and `onEvent` from its definition (a type import only).
   */
  async join<D = unknown>(type: string, id: string): Promise<Room<D>> {
    this.#assertOpenable();
    checkRoom(type, id);
    const key = formatRoom({ type, id });
    const existing = this.#rooms.get(key);
    if (existing) {
      await this.#joinWaiters.get(existing)?.promise;
      return existing as Room<D>;
    }
    const room = new Room({ type, id }, this);
    this.#rooms.set(key, room);
    const waiter = deferred<void>();
    this.#joinWaiters.set(room, waiter);
    // Offline, the join goes out with the next connection.
    if (this.state === ConnectionState.Open) this.#sendJoin(room);
    await waiter.promise;
    return room as Room<D>;
  }

  /** Closes for good: pending inputs, joins and requests reject with CLIENT_CLOSED. */
  close(): void {
    this.#shutdown(1000, "closed by the application");
  }

  // ---- RoomOwner ----

  sendInput(room: Room, type: string, body: Value): Promise<Value | undefined> {
    const refusal = this.#refuseInput(room);
    if (refusal) return Promise.reject(refusal);
    let bytes: Uint8Array;
    try {
      bytes = this.#encode({ k: ClientKind.Input, room: room.ref, seq: this.#seq + 1, type, body });
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const input: PendingInput = {
        seq,
        room,
        bytes,
        firstSentAt: undefined,
        sentAt: undefined,
        lastError: undefined,
        resolve,
        reject,
      };
      this.#inputs.add(input);
      if (this.#isReady(room)) this.#sendInput(input);
    });
  }

  async leaveRoom(room: Room): Promise<void> {
    const key = formatRoom(room.ref);
    if (this.#rooms.get(key) !== room) return;
    this.#forget(room, new RoomLeftError("room was left while joining"));
    // A join in flight is followed by the leave: the gateway handles a connection's requests in order.
    const onServer = this.#joined.delete(room) || this.#joining.delete(room);
    if (onServer) {
      const ref = ++this.#ref;
      await this.#request(ref, { k: ClientKind.Leave, ref, room: room.ref }).catch(() => undefined);
    }
    this.#inputs.rejectRoom(room, new RoomLeftError("room was left"));
    room.markLeft("left");
  }

  // ---- connection lifecycle ----

  #connect(): void {
    const joined = this.#rooms.values().next().value;
    const room = joined ? formatRoom(joined.ref) : this.options.room;
    const hooks = {
      frame: (frame: ServerFrame) => this.#onFrame(connection, frame),
      closed: (code: number | undefined, reason: string) =>
        this.#onClosed(connection, code, reason),
    };
    const connection = new Connection(this.options, this.#exclude, hooks, room);
    this.#connection = connection;
    connection.open().then(
      (welcome) => this.#onOpen(connection, welcome),
      () => undefined, // reported through `closed`
    );
  }

  #onOpen(connection: Connection, welcome: WelcomeFrame): void {
    if (connection !== this.#connection) return;
    this.#attempt = 0;
    this.#exclude = [];
    this.member = welcome.member;
    this.gateway = welcome.gateway;
    this.limits = welcome.limits;
    this.#setState(ConnectionState.Open);
    for (const room of this.#rooms.values()) this.#sendJoin(room);
    this.emit("open", { gateway: welcome.gateway, conn: welcome.conn, member: welcome.member });
    this.#started?.resolve();
  }

  #onClosed(connection: Connection, code: number | undefined, reason: string): void {
    if (connection !== this.#connection || this.state === ConnectionState.Closed) return;
    this.#connection = undefined;
    this.#dropConnectionState(new ConnectionLostError(reason));
    const info = code !== undefined ? closeCodeInfo[code as CloseCode] : undefined;
    if (info && !info.reconnect) return this.#shutdown(code, info.description);
    if (connection.gateway) this.#exclude = [...new Set([...this.#exclude, connection.gateway])];
    const delayMs = connection.moving
      ? 0
      : backoffDelay(this.#attempt++, this.options.backoffBaseMs, this.options.backoffCapMs);
    this.#setState(ConnectionState.Reconnecting);
    this.emit("reconnecting", { attempt: this.#attempt, delayMs, code, reason });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#connect();
    }, delayMs);
  }

  /** What belonged to the connection that ended: nothing is in flight any more. */
  #dropConnectionState(error: Error): void {
    this.#watchdog.stop();
    this.#joined = new Set();
    this.#joining = new Set();
    this.#inputRetries.cancelAll();
    this.#rejoins.cancelAll();
    this.#inputs.unsendAll();
    const requests = [...this.#requests.values()];
    this.#requests.clear();
    for (const request of requests) request.reject(error);
  }

  #shutdown(code: number | undefined, reason: string): void {
    if (this.state === ConnectionState.Closed) return;
    clearTimeout(this.#retryTimer);
    this.#setState(ConnectionState.Closed);
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.close(1000, reason);
    const error = new ClientClosedError(`client closed: ${reason}`);
    this.#dropConnectionState(error);
    this.#inputs.rejectAll(error);
    for (const room of this.#rooms.values()) room.markLeft("closed");
    const waiters = [...this.#joinWaiters.values()];
    this.#joinWaiters.clear();
    for (const waiter of waiters) waiter.reject(error);
    this.#started?.reject(error);
    this.emit("closed", { code, reason });
  }

  // ---- frames ----

  #onFrame(connection: Connection, frame: ServerFrame): void {
    if (connection !== this.#connection) return;
    switch (frame.k) {
      case ServerKind.Joined:
        return this.#onJoined(frame);
      case ServerKind.Event:
        return this.#rooms.get(formatRoom(frame.room))?.applyEvent(frame);
      case ServerKind.Ack:
        return this.#onAck(frame);
      case ServerKind.Left:
        return this.#onLeft(frame);
      case ServerKind.Error:
        return this.#onError(frame);
      // The connection handles these (handshake, liveness, moving on).
      case ServerKind.Welcome:
      case ServerKind.Pong:
      case ServerKind.Reconnect:
        return;
      default: {
        // A new server kind fails to compile here until it is handled.
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  #onJoined(frame: JoinedFrame): void {
    if (frame.ref !== undefined) this.#settle(frame.ref, frame);
    const room = this.#rooms.get(formatRoom(frame.room));
    if (!room) return;
    this.#joining.delete(room);
    this.#rejoins.reset(room);
    room.applyJoined(frame);
    const waiter = this.#joinWaiters.get(room);
    this.#joinWaiters.delete(room);
    waiter?.resolve();
    if (this.#joined.has(room)) return;
    this.#joined.add(room);
    this.#flush(room);
  }

  /** A dup ack carries the original result (protocol.md §6): same answer as the first time. */
  #onAck(frame: AckFrame): void {
    const input = this.#inputs.take(frame.seq);
    if (!input) return;
    this.#inputRetries.reset(input.room);
    input.resolve(frame.result);
  }

  #onLeft(frame: Extract<ServerFrame, { k: "left" }>): void {
    if (frame.ref !== undefined) return this.#settle(frame.ref, frame);
    const room = this.#rooms.get(formatRoom(frame.room));
    if (!room) return;
    const reason = frame.reason ?? "closed";
    this.#end(room, new RoomLeftError(`removed from the room: ${reason}`), reason);
  }

  #onError(frame: ErrorFrame): void {
    if (frame.ref !== undefined) {
      const request = this.#requests.get(frame.ref);
      this.#requests.delete(frame.ref);
      return request?.reject(errorFromFrame(frame));
    }
    if (frame.seq !== undefined) this.#onInputError(frame, frame.seq);
  }

  #onInputError(frame: ErrorFrame, seq: number): void {
    const input = this.#inputs.get(seq);
    if (!input) return;
    if (OUTCOME_UNKNOWN.has(frame.code)) return this.#outcomeUnknown(input, errorFromFrame(frame));
    this.#inputs.take(seq);
    input.reject(
      frame.code === ErrorCode.SEQ_EXPIRED
        ? new SeqExpiredError(seq, frame.message, { room: input.room.ref })
        : errorFromFrame(frame),
    );
  }

  /**
   * The input may or may not have taken effect. Its room's unanswered inputs
   * go out again, same seqs and in order, after a backoff; new inputs of the
   * room wait behind them. `inputTimeoutMs` bounds how long this goes on.
   */
  #outcomeUnknown(input: PendingInput, error: Error): void {
    input.sentAt = undefined;
    input.lastError = error;
    this.#inputRetries.schedule(input.room, () => this.#flush(input.room));
  }

  // ---- sending ----

  #sendJoin(room: Room): void {
    if (this.#joining.has(room) || this.#joined.has(room)) return;
    const ref = ++this.#ref;
    const resume = room.status === RoomStatus.Joined ? { since: room.seq, epoch: room.epoch } : {};
    this.#joining.add(room);
    this.#request(ref, { k: ClientKind.Join, ref, room: room.ref, ...resume }).catch(
      (error: unknown) => this.#joinRefused(room, error as Error),
    );
  }

  /**
   * A join answered with an error. A resume the cluster cannot serve right
   * now (a node failing over) is tried again shortly; any other refusal
   * ends the membership. A lost connection is not a refusal: the join is
   * sent again with the next one.
   */
  #joinRefused(room: Room, error: Error): void {
    if (error instanceof ConnectionLostError || error instanceof ClientClosedError) return;
    this.#joining.delete(room);
    if (this.#rooms.get(formatRoom(room.ref)) !== room) return;
    const code = (error as { code?: string }).code ?? "";
    if (room.status === RoomStatus.Joined && RESUME_RETRYABLE.has(code)) {
      return this.#rejoins.schedule(room, () => this.#sendJoin(room));
    }
    this.#end(room, error, "refused");
  }

  /** Sends the room's inputs that are not in flight, in seq order, if the room is ready for them. */
  #flush(room: Room): void {
    if (!this.#isReady(room)) return;
    for (const input of this.#inputs.ofRoom(room)) {
      if (input.sentAt === undefined) this.#sendInput(input);
    }
  }

  #sendInput(input: PendingInput): void {
    if (!this.#connection) return;
    this.#connection.send(input.bytes);
    this.#inputs.sent(input);
    this.#watchdog.arm();
  }

  #request(ref: number, frame: ClientFrame): Promise<ServerFrame> {
    const reply = new Promise<ServerFrame>((resolve, reject) =>
      this.#requests.set(ref, { resolve, reject, sentAt: Date.now() }),
    );
    this.#connection?.send(encodeFrame(frame));
    this.#watchdog.arm();
    return reply;
  }

  #settle(ref: number, frame: ServerFrame): void {
    const request = this.#requests.get(ref);
    this.#requests.delete(ref);
    request?.resolve(frame);
  }

  /** Encodes a frame and checks it as a gateway would: a frame it cannot read gets no answer naming it. */
  #encode(frame: ClientFrame): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (error) {
      throw new InvalidFieldError("body", "MessagePack-encodable data", { cause: error });
    }
    const maxFrameBytes = this.limits?.maxFrameBytes ?? DEFAULT_DECODE_LIMITS.maxFrameBytes;
    const decoded = decodeClientFrame(bytes, { ...DEFAULT_DECODE_LIMITS, maxFrameBytes });
    if (!decoded.ok) throw decoded.error;
    return bytes;
  }

  // ---- rooms ----

  #isReady(room: Room): boolean {
    return this.#joined.has(room) && !this.#inputRetries.has(room);
  }

  /** The room is no longer the client's: removed, its join waiter rejected, its retries cancelled. */
  #forget(room: Room, error: Error): void {
    this.#rooms.delete(formatRoom(room.ref));
    this.#inputRetries.cancel(room);
    this.#rejoins.cancel(room);
    const waiter = this.#joinWaiters.get(room);
    this.#joinWaiters.delete(room);
    waiter?.reject(error);
  }

  /** The server ended the membership (removed, or refused a join): everything pending fails. */
  #end(room: Room, error: Error, reason: string): void {
    this.#forget(room, error);
    this.#joined.delete(room);
    this.#joining.delete(room);
    this.#inputs.rejectRoom(room, error);
    room.markLeft(reason);
  }

  #refuseInput(room: Room): Error | undefined {
    if (this.state === ConnectionState.Closed) return new ClientClosedError("client closed");
    if (room.status === RoomStatus.Left || this.#rooms.get(formatRoom(room.ref)) !== room) {
      return new RoomLeftError("room was left");
    }
    if (this.#inputs.size >= this.options.maxQueuedInputs) {
      return new QueueFullError(this.options.maxQueuedInputs);
    }
    return undefined;
  }

  #oldestUnanswered(): number | undefined {
    let oldest = this.#inputs.oldestInFlight();
    for (const { sentAt } of this.#requests.values()) {
      if (oldest === undefined || sentAt < oldest) oldest = sentAt;
    }
    return oldest;
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

function deferred<T>(): Deferred<T> {
  let settle!: Omit<Deferred<T>, "promise">;
  const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  return { promise, ...settle };
}

/** A room a gateway could not parse would be refused without a `ref`: check it here. */
function checkRoom(type: string, id: string): void {
  if (!patterns.roomType.test(type)) {
    throw new InvalidFieldError("room.type", `a string matching ${String(patterns.roomType)}`);
  }
  if (!patterns.roomId.test(id)) {
    throw new InvalidFieldError("room.id", `a string matching ${String(patterns.roomId)}`);
  }
}
