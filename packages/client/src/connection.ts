import {
  ClientKind,
  decodeServerFrame,
  encodeFrame,
  PROTOCOL_VERSION,
  ServerKind,
  type ServerFrame,
  type WelcomeFrame,
} from "@rookery/protocol";
import { discover } from "./discovery";
import type { ResolvedClientOptions, WebSocketConstructor, WebSocketLike } from "./options";

export interface ConnectionHooks {
  /** Every frame after `welcome`. */
  frame: (frame: ServerFrame) => void;
  /** The socket closed or could not be opened (called once). */
  closed: (code: number | undefined, reason: string) => void;
}

const OPEN = 1;

/**
 * One attempt at a connection: find a gateway, open the socket, say hello,
 * wait for welcome; then heartbeats (a ping when quiet, and a close when the
 * gateway is silent for two intervals) and probes (a ping the gateway must
 * answer in time) until it closes. The client makes a new one for every
 * reconnect. Closing it at any point settles `open` and stops every timer.
 */
export class Connection {
  gateway = "";
  /** The gateway asked us to move (drain): reconnect at once, elsewhere. */
  moving = false;
  #ws: WebSocketLike | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #moveTimer: ReturnType<typeof setTimeout> | undefined;
  #probeTimer: ReturnType<typeof setTimeout> | undefined;
  #handshake: { timer: ReturnType<typeof setTimeout>; reject: (e: Error) => void } | undefined;
  readonly #abort = new AbortController();
  #lastReceived = Date.now();
  #lastSent = Date.now();
  #welcomed = false;
  #closed = false;

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly exclude: readonly string[],
    private readonly hooks: ConnectionHooks,
    /** The room to ask discovery for (`type/id`), if any. */
    private readonly room?: string,
  ) {}

  /** Resolves with `welcome`; rejects (after calling `closed`) when the attempt fails or is closed. */
  async open(): Promise<WelcomeFrame> {
    try {
      const url = await this.#target();
      const token =
        typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      const WebSocketImpl = this.options.WebSocket ?? (await defaultWebSocket());
      if (this.#closed) throw new Error("closed");
      return await this.#shakeHands(new WebSocketImpl(url), token);
    } catch (error) {
      this.#finish(undefined, (error as Error).message);
      throw error;
    }
  }

  send(bytes: Uint8Array): void {
    if (this.#ws?.readyState !== OPEN) return;
    this.#ws.send(bytes);
    this.#lastSent = Date.now();
  }

  close(code: number, reason: string): void {
    this.#ws?.close(code, reason);
    this.#finish(code, reason);
  }

  /**
   * An answer is overdue: ping, and if no frame at all arrives within
   * `deadlineMs`, take the gateway for dead (frozen or unreachable) and close.
   */
  probe(deadlineMs: number): void {
    if (this.#probeTimer !== undefined || !this.#welcomed || this.#closed) return;
    this.send(encodeFrame({ k: ClientKind.Ping, t: Date.now() }));
    this.#probeTimer = setTimeout(() => this.#abandon("gateway unresponsive"), deadlineMs);
  }

  async #target(): Promise<string> {
    const { url, discoveryUrl, region, connectTimeoutMs } = this.options;
    if (url) return url;
    const signal = this.#abort.signal;
    let found;
    try {
      found = await discover(
        discoveryUrl,
        region,
        this.exclude,
        connectTimeoutMs,
        signal,
        this.room,
      );
    } catch (error) {
      // Everything left was excluded (say, the only gateway restarted): ask without exclusions.
      if (this.exclude.length === 0 || this.#closed) throw error;
      found = await discover(discoveryUrl, region, [], connectTimeoutMs, signal, this.room);
    }
    this.gateway = found.gateway;
    return found.url;
  }

  #shakeHands(ws: WebSocketLike, token: string): Promise<WelcomeFrame> {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    return new Promise<WelcomeFrame>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#abandon("handshake timeout"),
        this.options.connectTimeoutMs,
      );
      this.#handshake = { timer, reject };
      ws.onopen = () => {
        const session = this.options.session;
        this.send(encodeFrame({ k: ClientKind.Hello, v: PROTOCOL_VERSION, token, session }));
      };
      ws.onerror = () => undefined; // followed by onclose, which reports it
      ws.onclose = (event) => this.#finish(event.code, event.reason || `closed (${event.code})`);
      ws.onmessage = (event) => {
        const frame = this.#decode(event.data);
        // An error here (bad token…) is followed by the gateway's close, whose code decides.
        if (frame?.k !== ServerKind.Welcome) return;
        this.#endHandshake();
        this.#welcomed = true;
        this.gateway = frame.gateway;
        this.#startHeartbeat(frame.heartbeatMs);
        ws.onmessage = (e) => this.#onMessage(e.data);
        resolve(frame);
      };
    });
  }

  #endHandshake(error?: Error): void {
    if (!this.#handshake) return;
    clearTimeout(this.#handshake.timer);
    if (error) this.#handshake.reject(error);
    this.#handshake = undefined;
  }

  #onMessage(data: unknown): void {
    const frame = this.#decode(data);
    if (!frame) return;
    if (frame.k === ServerKind.Reconnect) return this.#move(frame.after ?? 0);
    this.hooks.frame(frame);
  }

  #decode(data: unknown): ServerFrame | undefined {
    this.#lastReceived = Date.now();
    clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return undefined;
    const decoded = decodeServerFrame(
      data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array),
    );
    return decoded.ok ? decoded.frame : undefined;
  }

  /** The gateway drains: after its suggested wait, leave for another one (§12). */
  #move(after: number): void {
    this.moving = true;
    this.#moveTimer ??= setTimeout(() => this.close(1000, "gateway draining"), after);
  }

  #startHeartbeat(heartbeatMs: number): void {
    const every = Math.max(100, Math.floor(heartbeatMs / 2));
    this.#heartbeat = setInterval(() => {
      const now = Date.now();
      if (now - this.#lastReceived > 2 * heartbeatMs) return this.#abandon("gateway silent");
      if (now - this.#lastSent >= heartbeatMs / 2)
        this.send(encodeFrame({ k: ClientKind.Ping, t: now }));
    }, every);
  }

  /**
   * Gives up on a gateway that does not answer: no closing handshake to wait
   * for (it would not come), so `ws` in Node drops the socket at once.
   */
  #abandon(reason: string): void {
    const ws = this.#ws as (WebSocketLike & { terminate?: () => void }) | undefined;
    if (typeof ws?.terminate === "function") ws.terminate();
    else ws?.close(1000, reason);
    this.#finish(undefined, reason);
  }

  #finish(code: number | undefined, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#moveTimer);
    clearTimeout(this.#probeTimer);
    this.#abort.abort();
    this.#endHandshake(new Error(reason));
    if (this.#ws) {
      this.#ws.onmessage = null;
      this.#ws.onclose = null;
    }
    this.hooks.closed(code, reason);
  }
}

async function defaultWebSocket(): Promise<WebSocketConstructor> {
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global) return global;
  const ws = (await import("ws")) as unknown as { WebSocket: WebSocketConstructor };
  return ws.WebSocket;
}
