import { encodeFrame } from "@rookery/protocol";

/** Encodes anything (also what is not a valid frame) with the protocol's own packer. */
export function bytesOf(value: unknown): Uint8Array {
  return encodeFrame(value as never);
}

/**
 * Deep copy with Buffers turned into plain Uint8Arrays and -0 into 0 (msgpackr
 * writes -0 as the integer 0), for strict equality.
 */
export function plain(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (value instanceof Uint8Array) return Uint8Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** MessagePack str header + UTF-8 bytes of a short string (< 32 bytes). */
export function fixstr(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [0xa0 | bytes.length, ...bytes];
}

/** Concatenates byte lists and arrays into one Uint8Array. */
export function concat(...parts: (number[] | Uint8Array)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}
