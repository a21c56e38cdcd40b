/**
 * Identifier rules. Room types and ids become single NATS subject tokens and
 * KV key tokens, so they are limited to characters both accept verbatim; user
 * ids come from application tokens and may hold anything printable, so they are
 * escaped where a key needs them.
 */

/** A room address: its type (the room definition) and its id within that type. */
export interface RoomRef {
  type: string;
  id: string;
}

export const patterns = {
  /** Room type: one subject/key token. */
  roomType: /^[A-Za-z0-9_-]{1,64}$/,
  /** Room id: one subject/key token; `=` allowed so base64 ids fit. */
  roomId: /^[A-Za-z0-9_=-]{1,128}$/,
  /** Client session id, generated once per client and kept across reconnects. */
  session: /^[A-Za-z0-9_-]{16,64}$/,
  /** Process ids, process epochs and connection ids. */
  processId: /^[A-Za-z0-9_-]{1,64}$/,
  /** Application input types. */
  inputType: /^[A-Za-z0-9_.:/-]{1,64}$/,
  /** Event types: application types, or reserved system types starting with `$`. */
  eventType: /^\$?[A-Za-z0-9_.:/-]{1,64}$/,
  /** Namespace prefix of every subject, bucket and stream name. */
  prefix: /^[A-Za-z0-9_-]{1,48}$/,
} as const;

export const MAX_USER_LENGTH = 128;
export const MAX_NAME_LENGTH = 128;

// Lone surrogates cannot be escaped reversibly (they are not valid UTF-8).
const LONE_SURROGATE = /\p{Cs}/u;

// C0 controls and DEL are dangerous in logs.
function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return false;
  }
  return !LONE_SURROGATE.test(text);
}

export const isRoomType = (v: unknown): v is string =>
  typeof v === "string" && patterns.roomType.test(v);
export const isRoomId = (v: unknown): v is string =>
  typeof v === "string" && patterns.roomId.test(v);
export const isSessionId = (v: unknown): v is string =>
  typeof v === "string" && patterns.session.test(v);
export const isProcessId = (v: unknown): v is string =>
  typeof v === "string" && patterns.processId.test(v);
export const isInputType = (v: unknown): v is string =>
  typeof v === "string" && patterns.inputType.test(v);
export const isEventType = (v: unknown): v is string =>
  typeof v === "string" && patterns.eventType.test(v);

/** A user id (the token's `sub`): 1-128 characters, no control characters. */
export const isUserId = (v: unknown): v is string =>
  typeof v === "string" && v.length >= 1 && v.length <= MAX_USER_LENGTH && printable(v);

/** A display name: 0-128 characters, no control characters. */
export const isDisplayName = (v: unknown): v is string =>
  typeof v === "string" && v.length <= MAX_NAME_LENGTH && printable(v);

export function isRoomRef(v: unknown): v is RoomRef {
  if (typeof v !== "object" || v === null) return false;
  const room = v as Partial<Record<keyof RoomRef, unknown>>;
  return isRoomType(room.type) && isRoomId(room.id);
}

/** Member id of a user's session: `<userId>:<session>`, stable across reconnects. */
export function memberId(user: string, session: string): string {
  return `${user}:${session}`;
}

/** Splits a member id at its last `:` (sessions never contain one). */
export function parseMemberId(id: string): { user: string; session: string } | undefined {
  const at = id.lastIndexOf(":");
  if (at < 0) return undefined;
  const user = id.slice(0, at);
  const session = id.slice(at + 1);
  return isUserId(user) && isSessionId(session) ? { user, session } : undefined;
}

export function isMemberId(v: unknown): v is string {
  return typeof v === "string" && parseMemberId(v) !== undefined;
}

/** `type/id`, the form used in token allow-lists and logs. */
export function formatRoom(room: RoomRef): string {
  return `${room.type}/${room.id}`;
}

export function parseRoom(text: string): RoomRef | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const room = { type: text.slice(0, slash), id: text.slice(slash + 1) };
  return isRoomRef(room) ? room : undefined;
}

/**
 * Whether a token's `rooms` claim admits a room. No claim admits every room;
 * entries are `type/id` or `type/*`.
 */
export function roomAllowed(allow: readonly string[] | undefined, room: RoomRef): boolean {
  if (allow === undefined) return true;
  const exact = formatRoom(room);
  const wildcard = `${room.type}/*`;
  return allow.some((entry) => entry === exact || entry === wildcard);
}

// Characters kept verbatim in an escaped key token; `=` is the escape itself.
const KEY_SAFE = /^[A-Za-z0-9_-]$/;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Makes any string a single KV key / subject token: bytes outside
 * `[A-Za-z0-9_-]` become `=XX` (uppercase hex of each UTF-8 byte).
 * `alice:k3J9…` becomes `alice=3Ak3J9…`. Reversible and injective.
 */
export function escapeKeyToken(text: string): string {
  let out = "";
  for (const char of text) {
    if (KEY_SAFE.test(char)) out += char;
    else
      for (const byte of utf8.encode(char))
        out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Inverse of {@link escapeKeyToken}; undefined for text it could not have produced. */
export function unescapeKeyToken(token: string): string | undefined {
  if (!/^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})*$/.test(token)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "=") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  try {
    const text = strictUtf8.decode(new Uint8Array(bytes));
    return escapeKeyToken(text) === token ? text : undefined;
  } catch {
    return undefined;
  }
}
