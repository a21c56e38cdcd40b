import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import {
  ClientKind,
  decodeServerFrame,
  encodeFrame,
  ServerKind,
  type ClientFrame,
  type ServerFrame,
} from "@rookery/protocol";
import { until } from "@rookery/testkit";
import { newSession, token } from "../../gateway/test/harness";

const Opcode = { Binary: 0x2, Close: 0x8 } as const;

/** One WebSocket frame exactly as it came on the wire. */
export interface WireFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * A WebSocket client on a bare TCP socket, for tests about what the gateway
 * writes: it keeps every frame in wire order (a `ws` client would hide
 * frame boundaries and what follows a close frame), answers a close frame
 * and records the end of the stream.
 */
export class WireClient {
  readonly frames: WireFrame[] = [];
  /** The server ended the TCP stream; `trailing` bytes came that were no whole frame. */
  ended = false;
  trailing = 0;
  #buffer: Buffer = Buffer.alloc(0);

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.#read(chunk));
    socket.on("end", () => {
      this.ended = true;
      this.trailing = this.#buffer.length;
    });
    socket.on("error", () => undefined);
  }

  /** Upgrades, says hello and waits for welcome. */
  static async connect(url: string, user: string, session = newSession()): Promise<WireClient> {
    const { hostname, port, pathname } = new URL(url);
    const socket = connect(Number(port), hostname);
    await once(socket, "connect");
    const key = randomBytes(16).toString("base64");
    socket.write(
      `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const rest = await upgraded(socket);
    const client = new WireClient(socket);
    client.#read(rest);
    client.send({ k: ClientKind.Hello, v: 1, token: await token(user), session });
    await until(() => client.server().some((f) => f.k === ServerKind.Welcome), 5000, "welcome");
    return client;
  }

  send(frame: ClientFrame): void {
    this.socket.write(masked(Opcode.Binary, Buffer.from(encodeFrame(frame))));
  }

  /** Every binary frame decoded (throws if one is not exactly one protocol frame). */
  server(): ServerFrame[] {
    return this.frames
      .filter((f) => f.opcode === Opcode.Binary)
      .map((f) => {
        const decoded = decodeServerFrame(f.payload);
        if (!decoded.ok) throw decoded.error;
        return decoded.frame;
      });
  }

  events(type: string): Extract<ServerFrame, { k: "event" }>[] {
    return this.server().filter(
      (f): f is Extract<ServerFrame, { k: "event" }> => f.k === ServerKind.Event && f.type === type,
    );
  }

  destroy(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    for (let frame = this.#next(); frame; frame = this.#next()) {
      this.frames.push(frame);
      if (frame.opcode === Opcode.Close) this.socket.write(masked(Opcode.Close, frame.payload));
    }
  }

  #next(): WireFrame | undefined {
    const b = this.#buffer;
    if (b.length < 2) return undefined;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    this.#buffer = b.subarray(offset + length);
    return {
      fin: (b[0]! & 0x80) !== 0,
      opcode: b[0]! & 0x0f,
      payload: b.subarray(offset, offset + length),
    };
  }
}

/** Waits for the 101 response; returns what followed it. */
async function upgraded(socket: Socket): Promise<Buffer> {
  let head = Buffer.alloc(0);
  for (;;) {
    const [chunk] = (await once(socket, "data")) as [Buffer];
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) continue;
    const status = head.subarray(0, head.indexOf("\r\n")).toString();
    if (!status.includes(" 101 ")) throw new Error(`upgrade refused: ${status}`);
    return head.subarray(end + 4);
  }
}

/** A client frame: clients must mask (RFC 6455 §5.3). */
function masked(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const size = payload.length < 126 ? 2 : 4;
  const header = Buffer.alloc(size + 4);
  header[0] = 0x80 | opcode;
  if (size === 2) header[1] = 0x80 | payload.length;
  else {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  }
  mask.copy(header, size);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, body]);
}
