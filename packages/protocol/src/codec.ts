/**
 * The one MessagePack codec of Rookery, for the WebSocket and for NATS.
 * Decoding untrusted bytes is layered so that no input can throw, hang, or
 * build anything but plain data: byte length first, then an iterative
 * structural scan (see msgpack-scan), then msgpackr, then a handwritten
 * validator per frame kind.
 */
import { Packr, type Options } from "msgpackr";
import type { ClientFrame, ErrorFrame, ServerFrame } from "./client-frames";
import { ServerKind } from "./client-frames";
import { clientValidators, serverValidators, validatorMap, type Validator } from "./client-schema";
import {
  MalformedFrameError,
  ProtocolError,
  FrameTooLargeError,
  UnknownFrameError,
  type ErrorContext,
} from "./errors";
import { field, isMap, type Raw } from "./fields";
import { isRoomRef } from "./identifiers";
import type {
  DownNotice,
  InternalFrame,
  PlaceReply,
  PlaceRequest,
  RoomEvent,
  RoomReply,
  RoomRequest,
} from "./internal-frames";
import {
  downNoticeValidators,
  placeReplyValidators,
  placeRequestValidators,
  roomEventValidators,
  roomReplyValidators,
  roomRequestValidators,
} from "./internal-schema";
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from "./limits";
import { scanMessagePack } from "./msgpack-scan";

/** A decoded frame, or why there is none. Decoders never throw. */
export type DecodeResult<F> = { ok: true; frame: F } | { ok: false; error: ProtocolError };

export type AnyFrame = ClientFrame | ServerFrame | InternalFrame;

// Plain maps only (no records), int64 read as number; undefined map values
// are dropped like JSON does, and undefined elsewhere becomes nil. Extension
// types (Date, Set, …) would still be written, but no decoder accepts them.
const packrOptions: Options & { skipValues: unknown[] } = {
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  int64AsType: "number",
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
};
const packr = new Packr(packrOptions);

const clientLookup = validatorMap(clientValidators);
const serverLookup = validatorMap(serverValidators);
const roomRequestLookup = validatorMap(roomRequestValidators);
const roomReplyLookup = validatorMap(roomReplyValidators);
const roomEventLookup = validatorMap(roomEventValidators);
const placeRequestLookup = validatorMap(placeRequestValidators);
const placeReplyLookup = validatorMap(placeReplyValidators);
const downNoticeLookup = validatorMap(downNoticeValidators);

// A body a client could send (frame map + body) sits two levels deeper in a
// `joined` replay (frame map → replay array → event map → body), so frames
// built by servers get that much more nesting and can carry any such body.
const ENVELOPE_DEPTH = 2;

/**
 * Encodes a frame as one MessagePack map. Frames are built by trusted code, so
 * this does not validate; application data should fit {@link Value} (see
 * `isValue`), or the receiver rejects the frame.
 */
export function encodeFrame(frame: AnyFrame): Uint8Array {
  return packr.pack(frame);
}

export function decodeClientFrame(
  bytes: Uint8Array | ArrayBuffer,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<ClientFrame> {
  return decodeFrame(bytes, clientLookup, limits.maxFrameBytes, limits.maxDepth);
}

export function decodeServerFrame(
  bytes: Uint8Array | ArrayBuffer,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<ServerFrame> {
  const maxDepth = limits.maxDepth + ENVELOPE_DEPTH;
  return decodeFrame(bytes, serverLookup, limits.maxServerFrameBytes, maxDepth);
}

/** A request on a room inbox: join, leave or input. */
export function decodeRoomRequest(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<RoomRequest> {
  return decodeInternal(bytes, roomRequestLookup, limits);
}

/** A room actor's reply: joined, left, acked or err. */
export function decodeRoomReply(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<RoomReply> {
  return decodeInternal(bytes, roomReplyLookup, limits);
}

/** An event published on a room's event subject. */
export function decodeRoomEvent(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<RoomEvent> {
  return decodeInternal(bytes, roomEventLookup, limits);
}

export function decodePlaceRequest(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<PlaceRequest> {
  return decodeInternal(bytes, placeRequestLookup, limits);
}

export function decodePlaceReply(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<PlaceReply> {
  return decodeInternal(bytes, placeReplyLookup, limits);
}

export function decodeDownNotice(
  bytes: Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): DecodeResult<DownNotice> {
  return decodeInternal(bytes, downNoticeLookup, limits);
}

/**
 * The `error` frame reporting a failure to the client, pointing at the
 * offending frame's ref, room and input seq when they could be read.
 */
export function errorFrame(error: ProtocolError, after?: number): ErrorFrame {
  const frame: ErrorFrame = { k: ServerKind.Error, code: error.code, message: error.message };
  const { ref, room, seq } = error.context;
  if (ref !== undefined) frame.ref = ref;
  if (room !== undefined) frame.room = room;
  if (seq !== undefined) frame.seq = seq;
  if (after !== undefined) frame.after = after;
  return frame;
}

function decodeInternal<F>(
  bytes: Uint8Array,
  validators: ReadonlyMap<string, Validator<F>>,
  limits: DecodeLimits,
) {
  const maxDepth = limits.maxDepth + ENVELOPE_DEPTH;
  return decodeFrame(bytes, validators, limits.maxInternalFrameBytes, maxDepth);
}

function decodeFrame<F>(
  input: Uint8Array | ArrayBuffer,
  validators: ReadonlyMap<string, Validator<F>>,
  maxBytes: number,
  maxDepth: number,
): DecodeResult<F> {
  try {
    const raw = decodeMap(input, maxBytes, maxDepth);
    return { ok: true, frame: validate(raw, validators) };
  } catch (error) {
    return { ok: false, error: asProtocolError(error) };
  }
}

function decodeMap(input: Uint8Array | ArrayBuffer, maxBytes: number, maxDepth: number): Raw {
  if (!(input instanceof Uint8Array) && !(input instanceof ArrayBuffer)) {
    throw new MalformedFrameError("a frame must be binary");
  }
  if (input.byteLength > maxBytes) throw new FrameTooLargeError(input.byteLength, maxBytes);
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (!startsWithMap(bytes)) throw new MalformedFrameError("a frame must be a MessagePack map");
  const problem = scanMessagePack(bytes, maxDepth);
  if (problem !== undefined) throw new MalformedFrameError(problem);
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (cause) {
    throw new MalformedFrameError("undecodable MessagePack", { cause });
  }
  if (!isMap(raw)) throw new MalformedFrameError("a frame must be a MessagePack map");
  return raw;
}

function startsWithMap(bytes: Uint8Array): boolean {
  const first = bytes[0];
  return (
    first !== undefined && ((first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf)
  );
}

function validate<F>(raw: Raw, validators: ReadonlyMap<string, Validator<F>>): F {
  const kind = field(raw, "k");
  if (typeof kind !== "string") throw new MalformedFrameError("a frame must have a string k");
  const validator = validators.get(kind);
  try {
    if (validator === undefined) throw new UnknownFrameError(kind);
    return validator(raw);
  } catch (error) {
    if (error instanceof ProtocolError) error.context = contextOf(raw, kind);
    throw error;
  }
}

/** Best-effort pointers into a rejected frame, each only if it is itself valid. */
function contextOf(raw: Raw, kind: string): ErrorContext {
  const context: ErrorContext = { kind: kind.slice(0, 64) };
  const ref = field(raw, "ref");
  const room = field(raw, "room");
  const seq = field(raw, "seq");
  if (Number.isSafeInteger(ref) && (ref as number) >= 0) context.ref = ref as number;
  if (isRoomRef(room)) context.room = { type: room.type, id: room.id };
  if (Number.isSafeInteger(seq) && (seq as number) >= 1) context.seq = seq as number;
  return context;
}

function asProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  return new MalformedFrameError("frame could not be decoded", { cause: error });
}
