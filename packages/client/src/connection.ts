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
 * gateway is silent for two intervals) until it closes. The client makes a
 * new one for every reconnect.
 */
export class Connection {
  gateway = "";
  /** The gateway asked us to move (drain): reconnect at once, elsewhere. */
  moving = false;
  #ws: WebSocketLike | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #moveTimer: ReturnType<typeof setTimeout> | undefined;
  #lastReceived = Date.now();
  #lastSent = Date.now();
  #closed = false;

  constructor(
    private readonly options: ResolvedClientOptions,
    private readonly exclude: readonly string[],
    private readonly hooks: ConnectionHooks,
  ) {}

  /** Resolves with `welcome`; rejects (after calling `closed`) when the attempt fails. */
  async open(): Promise<WelcomeFrame> {
    try {
      const url = await this.#target();
      const token =
        typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      const WebSocketImpl = this.options.WebSocket ?? (await defaultWebSocket());
      if (this.#closed) throw new Error("closed");
      return await this.#handshake(new WebSocketImpl(url), token);
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

  async #target(): Promise<string> {
    const { url, discoveryUrl, region, connectTimeoutMs } = this.options;
    if (url) return url;
    let found;
    try {
      found = await discover(discoveryUrl, region, this.exclude, connectTimeoutMs);
    } catch (error) {
      // Everything left was excluded (say, the only gateway restarted): ask without exclusions.
      if (this.exclude.length === 0) throw error;
      found = await discover(discoveryUrl, region, [], connectTimeoutMs);
    }
    this.gateway = found.gateway;
    return found.url;
  }

  #handshake(ws: WebSocketLike, token: string): Promise<WelcomeFrame> {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    return new Promise<WelcomeFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.close(1000, "handshake timeout");
        reject(new Error("connect timeout"));
      }, this.options.connectTimeoutMs);
      ws.onopen = () => {
        const session = this.options.session;
        this.send(encodeFrame({ k: ClientKind.Hello, v: PROTOCOL_VERSION, token, session }));
      };
      ws.onerror = () => undefined; // followed by onclose, which reports it
      ws.onclose = (event) => {
        clearTimeout(timer);
        reject(new Error(`closed during handshake (${event.code})`));
        this.#finish(event.code, event.reason || `closed (${event.code})`);
      };
      ws.onmessage = (event) => {
        const frame = this.#decode(event.data);
        if (!frame) return;
        // An error here (bad token…) is followed by the gateway's close, whose code decides.
        if (frame.k === ServerKind.Welcome) {
          clearTimeout(timer);
          this.gateway = frame.gateway;
          this.#startHeartbeat(frame.heartbeatMs);
          ws.onmessage = (e) => this.#onMessage(e.data);
          resolve(frame);
        }
      };
    });
  }

  #onMessage(data: unknown): void {
    const frame = this.#decode(data);
    if (!frame) return;
    if (frame.k === ServerKind.Reconnect) return this.#move(frame.after ?? 0);
    this.hooks.frame(frame);
  }

  #decode(data: unknown): ServerFrame | undefined {
    this.#lastReceived = Date.now();
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
      if (now - this.#lastReceived > 2 * heartbeatMs) return this.close(1000, "gateway silent");
      if (now - this.#lastSent >= heartbeatMs / 2)
        this.send(encodeFrame({ k: ClientKind.Ping, t: now }));
    }, every);
  }

  #finish(code: number | undefined, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#moveTimer);
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
