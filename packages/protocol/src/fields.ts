/**
 * Field readers for frame validation. Each takes a decoded value and the
 * field's path, and returns it typed or throws InvalidFieldError; the codec
 * turns that into a result, so nothing thrown here leaves the package.
 */
import { InvalidFieldError } from "./errors";
import { isRoomId, isRoomType, patterns, type RoomRef } from "./identifiers";
import type { Value } from "./value";

export type Raw = Record<string, unknown>;

/** Own property only: a frame never inherits fields. */
export function field(raw: Raw, key: string): unknown {
  return Object.hasOwn(raw, key) ? raw[key] : undefined;
}

export function isMap(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export function asMap(v: unknown, path: string): Raw {
  if (!isMap(v)) throw new InvalidFieldError(path, "a map");
  return v;
}

export function asList(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new InvalidFieldError(path, "an array");
  return v;
}

export function asString(
  v: unknown,
  path: string,
  test: (s: string) => boolean = () => true,
  expected = "a string",
): string {
  if (typeof v !== "string" || !test(v)) throw new InvalidFieldError(path, expected);
  return v;
}

/** MessagePack bin: bytes carried as they are (a frame encoded once, forwarded as is). */
export function asBytes(v: unknown, path: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length === 0)
    throw new InvalidFieldError(path, "bytes (bin)");
  return v;
}

/** Matches a whole-string pattern, reporting the pattern when it does not. */
export function asPattern(v: unknown, path: string, pattern: RegExp): string {
  return asString(v, path, (s) => pattern.test(s), `a string matching ${pattern.source}`);
}

/** Integer fields may arrive as any MessagePack int or as an integral float64. */
export function asUint(v: unknown, path: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 0) {
    throw new InvalidFieldError(path, "an integer in [0, 2^53)");
  }
  return v as number;
}

export function asPositive(v: unknown, path: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) {
    throw new InvalidFieldError(path, "an integer in [1, 2^53)");
  }
  return v as number;
}

export function asNumber(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new InvalidFieldError(path, "a finite number");
  return v;
}

export function asBoolean(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new InvalidFieldError(path, "a boolean");
  return v;
}

export function asOneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (!values.includes(v as T)) throw new InvalidFieldError(path, `one of ${values.join(", ")}`);
  return v as T;
}

/** Any value passed the pre-decode scan, so it already fits the Value model; absent is nil. */
export function asValue(v: unknown): Value {
  return v === undefined ? null : (v as Value);
}

/**
 * Application data sent by a client: a Value whose numbers are all finite.
 * NaN and ±Infinity are rejected with the path of the first one (e.g.
 * `body.moves[3].x`), so no JSON-bound client ever receives one that another
 * client sent (docs/protocol.md §1).
 */
export function asClientValue(v: unknown, path: string): Value {
  const at = nonFinite(v);
  if (at !== undefined) throw new InvalidFieldError(`${path}${at}`, "a finite number");
  return asValue(v);
}

/** Where the first non-finite number sits below `v` ("" for `v` itself); depth is bounded by the scan. */
function nonFinite(v: unknown): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : "";
  if (typeof v !== "object" || v === null || v instanceof Uint8Array) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const at = nonFinite(v[i]);
      if (at !== undefined) return `[${i}]${at}`;
    }
    return undefined;
  }
  for (const key in v) {
    const at = nonFinite((v as Raw)[key]);
    if (at !== undefined) return `.${key}${at}`;
  }
  return undefined;
}

/** Absent and nil both mean "not given". */
export function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
  return v === undefined || v === null ? undefined : read(v);
}

export function asRoom(v: unknown, path: string): RoomRef {
  const raw = asMap(v, path);
  const type = field(raw, "type");
  const id = field(raw, "id");
  if (!isRoomType(type)) throw new InvalidFieldError(`${path}.type`, patterns.roomType.source);
  if (!isRoomId(id)) throw new InvalidFieldError(`${path}.id`, patterns.roomId.source);
  return { type, id };
}

/** Drops undefined properties so a decoded frame has exactly the fields it was sent with. */
export function compact<T extends object>(frame: T): T {
  for (const key of Object.keys(frame) as (keyof T)[]) {
    if (frame[key] === undefined) delete frame[key];
  }
  return frame;
}
