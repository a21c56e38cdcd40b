import {
  ClientKind,
  decodeClientFrame,
  encodeFrame,
  ServerKind,
  type ClientFrame,
  type RoomRef,
  type ServerFrame,
} from "@rookery/protocol";
import type { WebSocketConstructor, WebSocketLike } from "@rookery/client";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** What the fake gateway does with a frame; the default answers everything at once. */
export type Handler = (frame: ClientFrame, socket: FakeSocket) => void;

/**
 * An in-memory gateway behind a fake WebSocket, for tests of the SDK's own
 * logic: every socket and every frame a client sends is recorded, and tests
 * script the answers (`handle`), freeze it, or drop connections.
 */
export class FakeGateway {
  readonly sockets: FakeSocket[] = [];
  /** Every frame pushed to a client and handed to its socket, in order. */
  readonly delivered: ServerFrame[] = [];
  /** Every frame after `hello`, of every socket, in arrival order. */
  readonly received: { socket: number; frame: ClientFrame }[] = [];
  /** A frozen gateway keeps its sockets open and answers nothing, not even pings. */
  frozen = false;
  handle: Handler = answer;
  readonly WebSocket: WebSocketConstructor;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const gateway = this;
    this.WebSocket = class extends FakeSocket {
      constructor(url: string) {
        super(url, gateway);
      }
    };
  }

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no socket yet");
    return socket;
  }

  /** Frames of one kind received so far (on any socket, or on socket `index`). */
  frames<K extends ClientFrame["k"]>(kind: K, index?: number): Extract<ClientFrame, { k: K }>[] {
    return this.received
      .filter((r) => r.frame.k === kind && (index === undefined || r.socket === index))
      .map((r) => r.frame as Extract<ClientFrame, { k: K }>);
  }

  inputSeqs(index?: number): number[] {
    return this.frames(ClientKind.Input, index).map((f) => f.seq);
  }

  receive(socket: FakeSocket, frame: ClientFrame): void {
    if (this.frozen || socket.frozen) return;
    if (frame.k === ClientKind.Hello) return socket.push(welcome(this.sockets.indexOf(socket)));
    this.received.push({ socket: this.sockets.indexOf(socket), frame });
    if (frame.k === ClientKind.Ping) return socket.push({ k: ServerKind.Pong, t: frame.t });
    this.handle(frame, socket);
  }
}

export class FakeSocket implements WebSocketLike {
  binaryType = "";
  readyState = CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Freezes this connection only: it stays open and answers nothing. */
  frozen = false;
  /** How the client closed it, if it did. */
  closedBy: { code?: number; reason?: string } | undefined;

  constructor(
    readonly url: string,
    readonly gateway: FakeGateway,
  ) {
    gateway.sockets.push(this);
    setTimeout(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({});
    }, 0);
  }

  send(data: Uint8Array): void {
    const decoded = decodeClientFrame(data);
    if (!decoded.ok) throw decoded.error;
    this.gateway.receive(this, decoded.frame);
  }

  close(code?: number, reason?: string): void {
    this.closedBy = { code, reason };
    this.drop(code ?? 1005, reason ?? "");
  }

  /** Server side: a frame to the client, delivered like the network would (later). */
  push(frame: ServerFrame): void {
    const data = encodeFrame(frame);
    setTimeout(() => {
      if (this.readyState !== OPEN) return;
      this.onmessage?.({ data });
      this.gateway.delivered.push(frame);
    }, 0);
  }

  /** Server side: the connection ends. */
  drop(code = 1006, reason = ""): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }
}

function welcome(index: number): ServerFrame {
  return {
    k: ServerKind.Welcome,
    v: 1,
    conn: `c${index}`,
    member: "u:fake-session-0001",
    gateway: `fake-${index}`,
    limits: { maxFrameBytes: 65536, maxRooms: 16, ratePerSec: 50, burst: 100 },
    heartbeatMs: 15_000,
  };
}

export function joined(ref: number | undefined, room: RoomRef, seq = 0): ServerFrame {
  return {
    k: ServerKind.Joined,
    ...(ref !== undefined ? { ref } : {}),
    room,
    epoch: 1,
    seq,
    mode: "snapshot",
    members: [],
    leader: null,
  };
}

/** The default behaviour: joins and leaves succeed, inputs are acked with `{seq}` as the result. */
export const answer: Handler = (frame, socket) => {
  switch (frame.k) {
    case ClientKind.Join:
      return socket.push(joined(frame.ref, frame.room));
    case ClientKind.Leave:
      return socket.push({ k: ServerKind.Left, ref: frame.ref, room: frame.room });
    case ClientKind.Input:
      return socket.push({
        k: ServerKind.Ack,
        room: frame.room,
        seq: frame.seq,
        result: { seq: frame.seq },
      });
    default:
      return;
  }
};

/** A handler that answers joins and leaves but keeps inputs unanswered. */
export const silentOnInputs: Handler = (frame, socket) => {
  if (frame.k !== ClientKind.Input) answer(frame, socket);
};
