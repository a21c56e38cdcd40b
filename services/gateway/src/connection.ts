import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import {
  ClientKind,
  CloseCode,
  decodeClientFrame,
  encodeFrame,
  ErrorCode,
  errorFrame,
  memberId,
  parseMemberId,
  PROTOCOL_VERSION,
  ProtocolError,
  ServerKind,
  type ClientFrame,
  type ConnectionLimits,
  type DecodeResult,
  type HelloFrame,
  type ResolvedProtocolLimits,
  type ServerFrame,
  type TokenClaims,
} from "@rookery/protocol";
import { errorBudgetCodes } from "@rookery/protocol/internal";
import type { ConnectionContext } from "./context";
import { MinuteCounter, TokenBucket } from "./limiter";
import { ConnectionRooms } from "./connection-rooms";
import type { Membership } from "./membership";

const textMessage = (): DecodeResult<ClientFrame> => ({
  ok: false,
  error: new ProtocolError(ErrorCode.BAD_FRAME, "text messages are not frames"),
});

/** Each socket's connection, for the listeners all sockets share. */
const connectionOf = new WeakMap<WebSocket, Connection>();

/** The connection's start, and the frames pipelined after `hello` while it is verified. */
interface Handshake {
  readonly openedAt: number;
  held: { data: RawData; isBinary: boolean }[] | undefined;
}

const Phase = { Handshake: 0, Verifying: 1, Open: 2, Closed: 3 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

/**
 * One client WebSocket: handshake, rate limit, error budget, outgoing buffer
 * bound, and dispatch of its frames. Room frames go to its ConnectionRooms.
 * Timers are not per connection: the gateway calls `check()` once a second
 * for all of them (5,000 idle clients must not mean 15,000 timers).
 */
export class Connection {
  readonly id = randomBytes(9).toString("base64url");
  memberId = "";
  claims: TokenClaims | undefined;
  #phase: Phase = Phase.Handshake;
  /** What only the handshake needs, dropped once open (memory per client). */
  #handshake: Handshake | undefined = { openedAt: performance.now(), held: undefined };
  #lastSeen = performance.now();
  /** The rate limit's token bucket (a number: see TokenBucket). */
  #bucket: number = TokenBucket.FULL;
  // Created on first use, like everything else a quiet connection never needs (memory per idle client).
  #faults: MinuteCounter | undefined;
  readonly rooms: ConnectionRooms;

  /** `socket`: the one `ws` writes to; data frames are written to it by the gateway's WriteBatch. */
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly ctx: ConnectionContext,
  ) {
    this.rooms = new ConnectionRooms(this, ctx);
    connectionOf.set(ws, this);
    ws.on("message", Connection.#socketMessage);
    ws.on("close", Connection.#socketClosed);
    ws.on("error", ctx.socketError);
  }

  // The socket's listeners, shared by every socket: each looks its connection
  // up (two closures per connection took ~150 B, the lookup ~40 B).
  static readonly #socketMessage = function (this: WebSocket, data: RawData, isBinary: boolean) {
    const connection = connectionOf.get(this);
    if (connection) connection.onMessage(data, isBinary);
  };
  static readonly #socketClosed = function (this: WebSocket) {
    connectionOf.get(this)?.closed();
  };

  /** Idle timeout, handshake timeout and token expiry; called by the gateway's sweep. */
  check(now: number): void {
    const { idleTimeoutMs, handshakeTimeoutMs } = this.ctx.options.limits;
    if (this.#phase === Phase.Closed) return;
    const handshake = this.#handshake;
    if (handshake && now - handshake.openedAt > handshakeTimeoutMs) {
      return this.close(CloseCode.HANDSHAKE_TIMEOUT, "handshake timeout");
    }
    if (now - this.#lastSeen > idleTimeoutMs) return this.close(CloseCode.IDLE_TIMEOUT, "idle");
    if (this.claims && this.claims.exp * 1000 <= Date.now()) {
      this.reject(new ProtocolError(ErrorCode.TOKEN_EXPIRED, "token expired"));
      this.close(CloseCode.TOKEN_EXPIRED, "token expired");
    }
  }

  /** Encodes and sends a frame (dropped if the socket is not open). */
  send(frame: ServerFrame): void {
    this.sendEncoded(encodeFrame(frame), frame.k);
  }

  /**
   * Sends bytes, closing the socket as a slow consumer past the outgoing
   * buffer bound (which counts what this turn queued). The frames of one
   * turn are written together (WriteBatch), each still its own message.
   */
  sendEncoded(bytes: Uint8Array, kind: ServerKind): void {
    const { ws, socket } = this;
    if (ws.readyState !== ws.OPEN) return;
    const buffered = ws.bufferedAmount + this.ctx.writes.pending(socket);
    if (buffered + bytes.byteLength > this.ctx.options.maxBufferedBytes) {
      return this.slowConsumer();
    }
    this.ctx.writes.queue(ws, socket, bytes);
    this.ctx.metrics.frameOut(kind);
  }

  resync(membership: Membership): void {
    this.rooms.resync(membership);
  }

  /** Tells the client to move to another gateway (drain, docs/protocol.md §12). */
  drain(after: number): void {
    this.send({ k: ServerKind.Reconnect, reason: "draining", after });
  }

  /** A newer connection of the same session took over. */
  replaced(): void {
    this.close(CloseCode.REPLACED, "replaced by a newer connection");
  }

  close(code: number, reason: string): void {
    if (this.#phase === Phase.Closed) return;
    this.#phase = Phase.Closed;
    this.ctx.metrics.closes.inc({ code: String(code) });
    // This turn's frames (an error frame saying why, say) go out before the close frame.
    this.ctx.writes.flushSocket(this.socket);
    this.ws.close(code, reason);
    // A peer that never completes the closing handshake must not hold the socket.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  /** Drops the socket without a closing handshake (the gateway's last step when stopping). */
  terminate(): void {
    this.ws.terminate();
  }

  /** The socket is gone (closed by either side): leave rooms after the grace, free the session. */
  closed(): void {
    this.#phase = Phase.Closed;
    this.rooms.disconnect();
    // The session is the member id's tail (not kept apart: memory per client).
    const session = parseMemberId(this.memberId)?.session;
    if (session) this.ctx.releaseSession(session, this);
    this.ctx.connectionClosed(this);
  }

  // Private methods are TypeScript's, not #: with # methods every instance
  // carries a brand slot (8 B per connection).
  private onMessage(data: RawData, isBinary: boolean): void {
    this.#lastSeen = performance.now();
    if (this.#phase === Phase.Closed) return;
    if (this.#phase === Phase.Verifying) return this.hold(data, isBinary);
    this.handle(data as Buffer, isBinary);
  }

  /**
   * Frames pipelined after `hello` wait for `welcome`, then are served in
   * order (docs/protocol.md §3). At most `burst` of them: the bucket could
   * serve no more at once, so more is a flood, closed like one (4008).
   */
  private hold(data: RawData, isBinary: boolean): void {
    const handshake = this.#handshake!;
    const held = (handshake.held ??= []);
    if (held.length < this.ctx.options.limits.burst) return void held.push({ data, isBinary });
    handshake.held = [];
    this.reject(new ProtocolError(ErrorCode.RATE_LIMITED, "more than burst frames before welcome"));
    this.close(CloseCode.POLICY, "flood before welcome");
  }

  private handle(data: Buffer, isBinary: boolean): void {
    const decoded = isBinary ? decodeClientFrame(data, this.ctx.options.limits) : textMessage();
    this.ctx.metrics.frameIn(decoded.ok ? decoded.frame.k : "invalid");
    if (this.#phase === Phase.Handshake) return this.first(decoded);
    if (!decoded.ok) return this.reject(decoded.error);
    const frame = decoded.frame;
    const now = performance.now();
    const wait = TokenBucket.wait(this.#bucket, now, this.ctx.options.limits);
    if (wait > 0) {
      const context = "room" in frame ? { room: frame.room, ...seqOrRef(frame) } : {};
      return this.reject(
        new ProtocolError(ErrorCode.RATE_LIMITED, "rate limit exceeded", { context }),
        wait,
      );
    }
    this.#bucket = TokenBucket.take(this.#bucket, now, this.ctx.options.limits);
    this.dispatch(frame);
  }

  private dispatch(frame: ClientFrame): void {
    switch (frame.k) {
      case ClientKind.Join:
        return this.rooms.join(frame);
      case ClientKind.Leave:
        return this.rooms.leave(frame);
      case ClientKind.Input:
        return this.rooms.input(frame);
      case ClientKind.Ping:
        return this.send({ k: ServerKind.Pong, t: frame.t });
      case ClientKind.Hello:
        return this.reject(new ProtocolError(ErrorCode.UNKNOWN_KIND, "hello after the handshake"));
      default: {
        // A new client kind fails to compile here until it is handled.
        const _exhaustive: never = frame;
        return _exhaustive;
      }
    }
  }

  /**
   * The first frame must be a valid `hello` (docs/protocol.md §3): a `hello`
   * with a bad field gets INVALID_FIELD, anything else (another kind, an
   * unknown one, text, bytes that are no frame) NOT_AUTHENTICATED; both 4003.
   */
  private first(decoded: DecodeResult<ClientFrame>): void {
    if (decoded.ok && decoded.frame.k === ClientKind.Hello) return this.hello(decoded.frame);
    const badHello = !decoded.ok && decoded.error.context.kind === ClientKind.Hello;
    this.reject(
      badHello
        ? decoded.error
        : new ProtocolError(ErrorCode.NOT_AUTHENTICATED, "the first frame must be hello"),
    );
    this.close(CloseCode.HANDSHAKE_FAILED, badHello ? "bad hello" : "not authenticated");
  }

  private hello(frame: HelloFrame): void {
    this.#phase = Phase.Verifying;
    this.ctx.verifier.verify(frame.token).then(
      (claims) => this.welcome(frame, claims),
      (error: unknown) => this.authFailed(error),
    );
  }

  private welcome(hello: HelloFrame, claims: TokenClaims): void {
    if (this.#phase === Phase.Closed) return;
    this.claims = claims;
    const session = ownCopy(hello.session);
    this.memberId = ownCopy(memberId(claims.sub, session));
    this.#phase = Phase.Open;
    const held = this.#handshake?.held ?? [];
    this.#handshake = undefined;
    this.ctx.claimSession(session, this);
    const limits = this.ctx.options.limits;
    this.send({
      k: ServerKind.Welcome,
      v: PROTOCOL_VERSION,
      conn: this.id,
      member: this.memberId,
      gateway: this.ctx.id,
      limits: announced(limits),
      heartbeatMs: limits.heartbeatMs,
    });
    for (const { data, isBinary } of held) {
      // A held frame may have closed the connection (error budget): serve no more.
      if (this.isClosed()) return;
      this.handle(data as Buffer, isBinary);
    }
  }

  private isClosed(): boolean {
    return this.#phase === Phase.Closed;
  }

  private authFailed(error: unknown): void {
    const failure =
      error instanceof ProtocolError
        ? error
        : new ProtocolError(ErrorCode.AUTH_FAILED, "authentication failed", { cause: error });
    this.reject(failure);
    const expired = failure.code === ErrorCode.TOKEN_EXPIRED;
    this.close(expired ? CloseCode.TOKEN_EXPIRED : CloseCode.AUTH_FAILED, failure.code);
  }

  /**
   * Sends the error frame for a rejected request (counted in metrics, logged
   * once); a rejection the gateway decided itself on an open connection
   * counts toward `maxErrorsPerMinute`, and the one past it closes the
   * socket (4008) right after its error frame (docs/protocol.md §10).
   */
  reject(error: ProtocolError, after?: number): void {
    const { metrics, log, logOnce, options } = this.ctx;
    metrics.error(error.code);
    if (logOnce.shouldLog(`${error.code}:${error.message}`)) {
      log.warn({ code: error.code, conn: this.id, member: this.memberId }, error.message);
    }
    this.send(errorFrame(error, after));
    if (this.#phase !== Phase.Open || !errorBudgetCodes.has(error.code)) return;
    if ((this.#faults ??= new MinuteCounter()).hit() > options.limits.maxErrorsPerMinute) {
      this.close(CloseCode.POLICY, "too many rejected frames");
    }
  }

  private slowConsumer(): void {
    const error = errorFrame(
      new ProtocolError(ErrorCode.SLOW_CONSUMER, "outgoing buffer overflowed"),
    );
    this.ctx.metrics.error(ErrorCode.SLOW_CONSUMER);
    this.ctx.writes.queue(this.ws, this.socket, encodeFrame(error));
    this.close(CloseCode.SLOW_CONSUMER, "slow consumer");
  }
}

/**
 * A copy of `text` holding only its own characters. The decoder hands out
 * strings of 13 characters or more as slices of the whole frame's text, so
 * the session the gateway keeps for the connection's life would keep the
 * `hello` frame, token included (~180 bytes); and the member id built from
 * it, a concatenation, the pieces it was made of.
 */
function ownCopy(text: string): string {
  return Buffer.from(text, "utf8").toString("utf8");
}

/** The limits a client is told in `welcome` (docs/protocol.md §9). */
function announced(limits: ResolvedProtocolLimits): ConnectionLimits {
  const { maxFrameBytes, maxRooms, ratePerSec, burst } = limits;
  const { idleTimeoutMs, maxErrorsPerMinute, maxDepth } = limits;
  return {
    maxFrameBytes,
    maxRooms,
    ratePerSec,
    burst,
    idleTimeoutMs,
    maxErrorsPerMinute,
    maxDepth,
  };
}

function seqOrRef(frame: ClientFrame): { seq?: number; ref?: number } {
  if (frame.k === ClientKind.Input) return { seq: frame.seq };
  if (frame.k === ClientKind.Join || frame.k === ClientKind.Leave) return { ref: frame.ref };
  return {};
}
