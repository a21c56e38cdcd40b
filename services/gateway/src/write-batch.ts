import type { Writable } from "node:stream";
import type { WebSocket } from "ws";

/** The WebSocket a batch writes for: only its state is read. */
type Socket = Pick<WebSocket, "readyState" | "OPEN">;

/** One socket's messages of this turn. */
interface Held {
  readonly ws: Socket;
  readonly payloads: Uint8Array[];
  /** Bytes on the wire, frame headers included. */
  bytes: number;
}

/**
 * Coalesces the socket writes of one turn of the event loop. A room event
 * goes to many sockets, and a socket gets several frames a turn under load
 * (an ack and the events of a batch of inputs); written one by one, every
 * frame is its own syscall, which was the largest item of a loaded
 * gateway's CPU profile (docs/benchmarks.md). A frame is queued here, and
 * one `setImmediate` at the end of the turn writes each socket's frames as
 * one buffer, in one `write`.
 *
 * The batch frames the messages itself (binary, unmasked, one frame per
 * message, RFC 6455 §5.2) rather than through `ws.send`: `ws` allocates a
 * header and a list per message, and Node's stream buffers an entry per
 * chunk while the socket is corked; together they were a quarter of the
 * bytes a loaded gateway allocated. Only data frames are written here; `ws`
 * still writes the control frames (pong, close) itself, between whole
 * writes, so the two never interleave inside a frame.
 *
 * Each frame stays its own WebSocket message, in the order queued. Nothing
 * is written once the WebSocket has started closing: a connection that
 * closes flushes its socket first (`flushSocket`), so its last frames go
 * out before the close frame.
 */
export class WriteBatch {
  #held = new Map<Writable, Held>();

  /** Queues one binary message for `socket` (the socket of `ws`), written at the end of the turn. */
  queue(ws: Socket, socket: Writable, payload: Uint8Array): void {
    let held = this.#held.get(socket);
    if (held === undefined) {
      held = { ws, payloads: [], bytes: 0 };
      this.#held.set(socket, held);
      if (this.#held.size === 1) setImmediate(this.flush);
    }
    held.payloads.push(payload);
    held.bytes += headerLength(payload.byteLength) + payload.byteLength;
  }

  /** Bytes queued for `socket` this turn (they count toward its outgoing buffer bound). */
  pending(socket: Writable): number {
    return this.#held.get(socket)?.bytes ?? 0;
  }

  /** Writes what `socket` holds now (before its close frame). */
  flushSocket(socket: Writable): void {
    const held = this.#held.get(socket);
    if (held === undefined) return;
    this.#held.delete(socket);
    write(socket, held);
  }

  /** Writes out everything held (runs at the end of each turn that queued a frame). */
  readonly flush = (): void => {
    const held = this.#held;
    if (held.size === 0) return;
    this.#held = new Map();
    for (const [socket, frames] of held) write(socket, frames);
  };
}

function write(socket: Writable, held: Held): void {
  const { ws } = held;
  // Closed or closing meanwhile (either side): nothing may follow the close frame.
  if (ws.readyState !== ws.OPEN || socket.destroyed || !socket.writable) return;
  const out = Buffer.allocUnsafe(held.bytes);
  let at = 0;
  for (const payload of held.payloads) {
    at = writeHeader(out, at, payload.byteLength);
    out.set(payload, at);
    at += payload.byteLength;
  }
  socket.write(out);
}

/** FIN and the binary opcode: every frame is a whole binary message. */
const FIN_BINARY = 0x82;

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** Writes a server frame header (unmasked) for a payload of `length` bytes; returns the next offset. */
function writeHeader(out: Buffer, at: number, length: number): number {
  out[at] = FIN_BINARY;
  if (length < 126) {
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    out[at + 1] = 126;
    out.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeBigUInt64BE(BigInt(length), at + 2);
  return at + 10;
}
