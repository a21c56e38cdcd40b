/**
 * Deep copies of plain data (what room state and event bodies are: null,
 * booleans, numbers, strings, arrays and plain objects). A copier written
 * for that shape costs a fraction of `structuredClone`, which serializes
 * and deserializes through a buffer and pays a fixed cost per call: it ran
 * once per input for the rollback copy of the state and once per emitted
 * object body, and was the largest item of a room's CPU profile.
 *
 * Anything else (a Uint8Array, a Date, a class instance, a null-prototype
 * object, a sparse array) is copied by `structuredClone`, as before. So are
 * values nested deeper than {@link MAX_DEPTH}, which also catches cycles.
 *
 * One difference from `structuredClone`: a tree is copied as a tree. An
 * object reachable by two paths becomes two objects, as it does when state
 * goes through a snapshot (MessagePack keeps no sharing either).
 */

/** Nesting beyond which the whole value is handed to `structuredClone` (and cycles end). */
export const MAX_DEPTH = 256;

/** What a copy deeper than {@link MAX_DEPTH} returns, all the way up. */
const TOO_DEEP: unknown = Symbol("too deep");

const OWN = { enumerable: true, writable: true, configurable: true } as const;

/** A deep copy of `value`; primitives are returned as they are. */
export function copyPlain<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  const copied = copy(value, 0);
  return (copied === TOO_DEEP ? structuredClone(value) : copied) as T;
}

function copy(value: object, depth: number): unknown {
  if (depth > MAX_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return copyArray(value as unknown[], depth);
  if (Object.getPrototypeOf(value) !== Object.prototype) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    const c = v !== null && typeof v === "object" ? copy(v, depth + 1) : v;
    if (c === TOO_DEEP) return TOO_DEEP;
    // An own "__proto__" key (JSON.parse makes them) would set the copy's prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: c, ...OWN });
    else out[key] = c;
  }
  return out;
}

function copyArray(value: unknown[], depth: number): unknown {
  const n = value.length;
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const v = value[i];
    if (v === undefined && !(i in value)) return structuredClone(value);
    const c = v !== null && typeof v === "object" ? copy(v, depth + 1) : v;
    if (c === TOO_DEEP) return TOO_DEEP;
    out.push(c);
  }
  return out;
}
