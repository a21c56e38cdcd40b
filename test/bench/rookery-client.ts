/**
 * Rookery clients for the benchmarks as raw protocol sockets (docs/protocol.md),
 * as light as the Colyseus SDK on the other side: a handshake, a join, and
 * party-queue inputs (`add`, then `remove` of what was added) timed from send
 * to ack. Every server frame is decoded, as colyseus.js decodes every message.
 */
import type { WebSocket } from "ws";
import {
  ClientKind,
  decodeServerFrame,
  encodeFrame,
  ServerKind,
  type ServerFrame,
} from "@rookery/protocol";
import { hello } from "./gateway";

export interface RoomRef {
  type: string;
  id: string;
}

/** A socket that completed the handshake and joined `room`. */
export async function joinedClient(url: string, user: string, room: RoomRef): Promise<WebSocket> {
  const ws = await hello(url, user);
  await new Promise<void>((resolve, reject) => {
    ws.once("message", (data: Buffer) => {
      const f = decodeServerFrame(data);
      if (f.ok && f.frame.k === ServerKind.Joined) resolve();
      else reject(new Error(`${user} could not join ${room.type}/${room.id}`));
    });
    ws.send(encodeFrame({ k: ClientKind.Join, ref: 1, room }));
  });
  return ws;
}

export function left(ws: WebSocket, room: RoomRef): Promise<void> {
  return new Promise<void>((resolve) => {
    const onMessage = (data: Buffer) => {
      const f = decodeServerFrame(data);
      if (!f.ok || f.frame.k !== ServerKind.Left) return;
      ws.off("message", onMessage);
      resolve();
    };
    ws.on("message", onMessage);
    ws.send(encodeFrame({ k: ClientKind.Leave, ref: 2, room }));
  });
}

/**
 * Whether a server frame is an `event`, from its first bytes (a map whose
 * first key is `k`, valued "event", as the gateway encodes it): the load
 * generator skips decoding the room's broadcasts, so its CPU goes to acks.
 */
export function isEventFrame(data: Buffer): boolean {
  // fixmap, fixstr "k", fixstr(5) "ev…"
  return (
    (data[0]! & 0xf0) === 0x80 &&
    data[1] === 0xa1 &&
    data[2] === 0x6b &&
    data[3] === 0xa5 &&
    data[4] === 0x65 &&
    data[5] === 0x76
  );
}

/**
 * One joined player sending party-queue inputs: a `remove` of an item it
 * added whenever one is acked and not yet removed, else an `add` (so every
 * item is removed, even when acks lag behind the send rate, and the queue
 * stays short). Acks for one room arrive in seq order, so a
 * FIFO of send times pairs them; `onAck` gets each latency in ms. With
 * `skipEvents`, event frames are recognised by their first bytes and not decoded.
 */
export class QueuePlayer {
  #seq = 0;
  /** Items this player added (acked) and has not yet sent a `remove` for. */
  readonly #added: string[] = [];
  readonly #sent: { seq: number; at: number; add: boolean }[] = [];
  errors = 0;
  /** Error frames for inputs, by code. */
  readonly errorCodes: Record<string, number> = {};

  constructor(
    readonly ws: WebSocket,
    readonly room: RoomRef,
    private readonly onAck: (ms: number) => void,
    skipEvents = false,
  ) {
    ws.on("message", (data: Buffer) => {
      if (skipEvents && isEventFrame(data)) return;
      const f = decodeServerFrame(data);
      if (f.ok) this.#frame(f.frame);
    });
  }

  get outstanding(): number {
    return this.#sent.length;
  }

  send(): void {
    const seq = ++this.#seq;
    const id = this.#added.shift();
    this.#sent.push({ seq, at: performance.now(), add: id === undefined });
    const [type, body] = id === undefined ? ["add", { title: "load" }] : ["remove", { id }];
    this.ws.send(encodeFrame({ k: ClientKind.Input, room: this.room, seq, type, body }));
  }

  #frame(frame: ServerFrame): void {
    if (frame.k === ServerKind.Ack) {
      const i = this.#sent.findIndex((s) => s.seq === frame.seq);
      if (i < 0) return;
      const [sent] = this.#sent.splice(i, 1);
      this.onAck(performance.now() - sent!.at);
      const id = (frame.result as { id?: string } | undefined)?.id;
      if (sent!.add && id) this.#added.push(id);
    } else if (frame.k === ServerKind.Error && frame.seq !== undefined) {
      const i = this.#sent.findIndex((s) => s.seq === frame.seq);
      if (i >= 0) this.#sent.splice(i, 1);
      this.errors++;
      this.errorCodes[frame.code] = (this.errorCodes[frame.code] ?? 0) + 1;
    }
  }
}

/** `GET /discover?room=type/id` on a gateway: the WebSocket URL of the process owning the room. */
export async function discover(httpBase: string, room: RoomRef): Promise<string> {
  const res = await fetch(`${httpBase}/discover?room=${room.type}/${room.id}`);
  if (!res.ok) throw new Error(`discover ${room.type}/${room.id}: HTTP ${res.status}`);
  return ((await res.json()) as { url: string }).url;
}
