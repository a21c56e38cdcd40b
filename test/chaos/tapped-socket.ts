/**
 * A WebSocket for the client SDK that lets the suite see every frame as it
 * comes off the wire (before the SDK's own dedupe) and cut the connection
 * abruptly, as a network failure would, without touching the SDK.
 */
import { WebSocket } from "ws";
import { decodeServerFrame, type ServerFrame } from "@rookery/protocol";
import type { WebSocketConstructor, WebSocketLike } from "@rookery/client";

type Handler<E> = ((event: E) => void) | null;

/** Receives the frames of every socket one client opens, and tracks the open ones. */
export class SocketTap {
  readonly open = new Set<TappedSocket>();
  drops = 0;

  constructor(readonly onFrame: (frame: ServerFrame) => void) {}

  /** The constructor to hand the SDK as its `WebSocket` option. */
  constructorFor(): WebSocketConstructor {
    return socketClassFor(this);
  }

  /** Cuts every open socket of the client at once (no close handshake: TCP reset). */
  drop(): number {
    const sockets = [...this.open].filter((s) => s.readyState === WebSocket.OPEN);
    for (const socket of sockets) socket.terminate();
    this.drops += sockets.length;
    return sockets.length;
  }
}

function socketClassFor(tap: SocketTap): WebSocketConstructor {
  return class extends TappedSocket {
    constructor(url: string) {
      super(url, tap);
    }
  };
}

export class TappedSocket implements WebSocketLike {
  readonly #ws: WebSocket;
  readonly #tap: SocketTap;
  #onmessage: Handler<{ data: unknown }> = null;
  #onclose: Handler<{ code: number; reason: string }> = null;

  constructor(url: string, tap: SocketTap) {
    this.#tap = tap;
    this.#ws = new WebSocket(url);
    tap.open.add(this);
    this.#ws.onmessage = (event) => {
      this.#record(event.data);
      this.#onmessage?.({ data: event.data });
    };
    this.#ws.onclose = (event) => {
      tap.open.delete(this);
      this.#onclose?.({ code: event.code, reason: event.reason });
    };
  }

  get binaryType(): string {
    return this.#ws.binaryType;
  }
  set binaryType(type: string) {
    this.#ws.binaryType = type as WebSocket["binaryType"];
  }
  get readyState(): number {
    return this.#ws.readyState;
  }
  get onopen(): Handler<unknown> {
    return this.#ws.onopen as Handler<unknown>;
  }
  set onopen(handler: Handler<unknown>) {
    this.#ws.onopen = handler;
  }
  get onerror(): Handler<unknown> {
    return this.#ws.onerror as Handler<unknown>;
  }
  set onerror(handler: Handler<unknown>) {
    this.#ws.onerror = handler;
  }
  get onmessage(): Handler<{ data: unknown }> {
    return this.#onmessage;
  }
  set onmessage(handler: Handler<{ data: unknown }>) {
    this.#onmessage = handler;
  }
  get onclose(): Handler<{ code: number; reason: string }> {
    return this.#onclose;
  }
  set onclose(handler: Handler<{ code: number; reason: string }>) {
    this.#onclose = handler;
  }

  send(data: Uint8Array): void {
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #record(data: unknown): void {
    const bytes =
      data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : undefined;
    if (bytes === undefined) return;
    const decoded = decodeServerFrame(bytes);
    if (decoded.ok) this.#tap.onFrame(decoded.frame);
  }
}
