/** One valid frame of every kind, per family, and the decoder of each family. */
import {
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  type ClientFrame,
  type DecodeResult,
  type ServerFrame,
  type Value,
} from "@rookery/protocol";
import {
  decodeDownNotice,
  decodePlaceReply,
  decodePlaceRequest,
  decodeRoomEvent,
  decodeRoomReply,
  decodeRoomRequest,
  type AnyFrame,
  type DownNotice,
  type PlaceReply,
  type PlaceRequest,
  type RoomEvent,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";

export const room = { type: "chess", id: "g-42" };
export const alice = "alice@example.com:Sx7Qm2Lp9Zt4Wn8R";
export const bob = "bob:Kd3Vb6Nh1Jc5Xy0T";
const aliceView = {
  id: alice,
  user: "alice@example.com",
  name: "Alice",
  joinedAt: 1_700_000_000_000,
};
const bobView = { id: bob, user: "bob", name: "", joinedAt: 1_700_000_000_500 };

export const clientFrames: ClientFrame[] = [
  { k: "hello", v: 1, token: "eyJhbGciOiJIUzI1NiJ9.e30.sig", session: "Sx7Qm2Lp9Zt4Wn8R" },
  { k: "join", ref: 1, room },
  { k: "join", ref: 2, room, since: 41, epoch: 3 },
  { k: "leave", ref: 3, room },
  { k: "input", room, seq: 1, type: "move", body: { from: "e2", to: "e4", promo: null } },
  { k: "input", room, seq: 2, type: "chat.send", body: new Uint8Array([1, 2, 3]) },
  { k: "ping", t: 1_700_000_000_123.5 },
];

export const serverFrames: ServerFrame[] = [
  {
    k: "welcome",
    v: 1,
    conn: "c-1",
    member: alice,
    gateway: "gw-a",
    limits: { maxFrameBytes: 65536, maxRooms: 16, ratePerSec: 50, burst: 100 },
    heartbeatMs: 15000,
  },
  {
    k: "joined",
    ref: 1,
    room,
    epoch: 3,
    seq: 41,
    mode: "snapshot",
    state: { board: "rnbqkbnr/pppppppp", turn: "w", clocks: [300, 300.5] },
    members: [aliceView, bobView],
    leader: alice,
  },
  {
    k: "joined",
    room,
    epoch: 3,
    seq: 43,
    mode: "replay",
    members: [aliceView, bobView],
    leader: bob,
    replay: [
      { seq: 42, type: "$leader", body: { id: bob, prev: alice } },
      { seq: 43, type: "moved", body: { san: "e4" } },
    ],
  },
  { k: "left", ref: 3, room },
  { k: "left", room, reason: "kicked" },
  { k: "ack", room, seq: 1, result: { ok: true } },
  { k: "ack", room, seq: 1, dup: true },
  { k: "event", room, seq: 44, type: "moved", body: { san: "e5" } },
  { k: "event", room, seq: 45, type: "$join", body: bobView },
  { k: "event", room, seq: 46, type: "$leave", body: { id: bob, reason: "disconnected" } },
  { k: "event", room, seq: 47, type: "$leader", body: { id: null, prev: alice } },
  { k: "error", code: "NOT_JOINED", message: "join the room first", room, seq: 7 },
  { k: "error", code: "RATE_LIMITED", message: "slow down", after: 250 },
  { k: "reconnect", reason: "draining", after: 100 },
  { k: "reconnect", reason: "draining" },
  { k: "pong", t: 12 },
];

const member = {
  id: alice,
  user: "alice@example.com",
  name: "Alice",
  gateway: "gw-a",
  gatewayEpoch: "9f3c2a1b0e4d5c6f",
  conn: "c-1",
};

export const roomRequests: RoomRequest[] = [
  { k: "join", member },
  { k: "join", member, since: 40, epoch: 2 },
  { k: "leave", member: alice, conn: "c-1", reason: "left" },
  { k: "leave", member: alice, conn: "c-1" },
  { k: "input", member: alice, seq: 9, type: "move", body: [1, "two", { three: 3 }, -4, 2 ** 40] },
];

export const roomReplies: RoomReply[] = [
  { k: "joined", epoch: 3, seq: 41, mode: "snapshot", members: [aliceView], leader: alice },
  {
    k: "joined",
    epoch: 3,
    seq: 42,
    mode: "replay",
    state: "ignored-but-allowed",
    members: [aliceView],
    leader: alice,
    replay: [{ seq: 42, type: "x", body: null }],
  },
  { k: "left" },
  { k: "acked", seq: 9, result: 1 },
  { k: "acked", seq: 9, dup: true },
  { k: "err", code: "ROOM_MOVED", message: "stopping", after: 5 },
  { k: "err", code: "INPUT_REJECTED", message: "illegal move" },
];

/** The client frame a room actor encodes once into each room event. */
export const eventFrame = (seq: number, type: string, body: Value) =>
  encodeFrame({ k: "event", room, seq, type, body });

export const roomEvents: RoomEvent[] = [
  { k: "ev", epoch: 3, seq: 44, type: "moved", frame: eventFrame(44, "moved", { san: "e5" }) },
  { k: "ev", epoch: 3, seq: 45, type: "hand", frame: eventFrame(45, "hand", ["Ah"]), to: [alice] },
];

export const placeRequests: PlaceRequest[] = [{ k: "place", room }];

export const placeReplies: PlaceReply[] = [
  { k: "placed", node: "node-1", epoch: 4 },
  { k: "err", code: "UNKNOWN_ROOM_TYPE", message: "no node serves chess" },
];

export const downNotices: DownNotice[] = [
  { k: "down", role: "node", id: "node-1", epoch: "9f3c2a1b0e4d5c6f", reason: "heartbeat expired" },
  { k: "down", role: "gateway", id: "gw-a", epoch: "0011223344556677" },
];

export type Decoder = (bytes: Uint8Array) => DecodeResult<AnyFrame>;

export interface Family {
  name: string;
  decode: Decoder;
  frames: AnyFrame[];
}

export const families: Family[] = [
  { name: "client", decode: (b) => decodeClientFrame(b), frames: clientFrames },
  { name: "server", decode: (b) => decodeServerFrame(b), frames: serverFrames },
  { name: "room request", decode: (b) => decodeRoomRequest(b), frames: roomRequests },
  { name: "room reply", decode: (b) => decodeRoomReply(b), frames: roomReplies },
  { name: "room event", decode: (b) => decodeRoomEvent(b), frames: roomEvents },
  { name: "place request", decode: (b) => decodePlaceRequest(b), frames: placeRequests },
  { name: "place reply", decode: (b) => decodePlaceReply(b), frames: placeReplies },
  { name: "down notice", decode: (b) => decodeDownNotice(b), frames: downNotices },
];

export const decoders: Decoder[] = families.map((f) => f.decode);
