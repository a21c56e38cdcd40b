import type { Value } from "@rookery/protocol";

/**
 * Plain type guards for message bodies, for `message(guard, handler)` (or
 * the older `validate` map): each checks a value that came off the wire and
 * narrows it, and the handler's body gets the narrowed type. Combine them
 * with {@link shape}:
 *
 * ```ts
 * onMessage: {
 *   move: message(shape({ cell: int({ min: 0, max: 8 }) }), (ctx: Ctx, { cell }) => {…}),
 *   rename: message(shape({ name: text({ min: 1, max: 32 }), color: optional(oneOf("red", "blue")) }), …),
 *   resign: message(isEmptyBody, …),
 * },
 * ```
 */
export type Guard<T> = (value: unknown) => value is T;

/** A MessagePack map (not an array, binary or nil): the shape every message body starts from. */
export function isMap(body: unknown): body is { [key: string]: Value } {
  return (
    typeof body === "object" &&
    body !== null &&
    !Array.isArray(body) &&
    !(body instanceof Uint8Array)
  );
}

/** "No body": nil or a map (its fields ignored), what a client sends for a message without one. */
export function isEmptyBody(body: unknown): body is { [key: string]: Value } | null {
  return body === null || isMap(body);
}

/** A string of `min`..`max` characters (code points) matching `pattern`, if given. */
export function text(
  options: { min?: number; max?: number; pattern?: RegExp } = {},
): Guard<string> {
  const { min = 0, max = Infinity, pattern } = options;
  return (value): value is string => {
    if (typeof value !== "string") return false;
    if (pattern && !pattern.test(value)) return false;
    // Code points, counted only as far as needed.
    let n = 0;
    for (const _ of value) if (++n > max) return false;
    return n >= min;
  };
}

/** A safe integer in `min`..`max`. */
export function int(options: { min?: number; max?: number } = {}): Guard<number> {
  const { min = -Infinity, max = Infinity } = options;
  return (value): value is number =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** A finite number in `min`..`max`. */
export function num(options: { min?: number; max?: number } = {}): Guard<number> {
  const { min = -Infinity, max = Infinity } = options;
  return (value): value is number =>
    typeof value === "number" && Number.isFinite(value) && value >= min && value <= max;
}

export const bool: Guard<boolean> = (value): value is boolean => typeof value === "boolean";

/** One of the given strings, numbers or booleans. */
export function oneOf<const T extends readonly (string | number | boolean)[]>(
  ...values: T
): Guard<T[number]> {
  return (value): value is T[number] => values.includes(value as T[number]);
}

/** An array of at most `max` items, each passing `item`. */
export function arrayOf<T>(item: Guard<T>, options: { max?: number } = {}): Guard<T[]> {
  const { max = Infinity } = options;
  return (value): value is T[] =>
    Array.isArray(value) && value.length <= max && value.every((v) => item(v));
}

/** `guard`, or absent, or nil (a nil field is the same as an absent one on the wire). */
export function optional<T>(guard: Guard<T>): Guard<T | null | undefined> {
  return (value): value is T | null | undefined =>
    value === undefined || value === null || guard(value);
}

type Shaped<F extends Record<string, Guard<unknown>>> = {
  [K in keyof F as undefined extends Narrowed<F[K]> ? never : K]: Narrowed<F[K]>;
} & {
  [K in keyof F as undefined extends Narrowed<F[K]> ? K : never]?: Narrowed<F[K]>;
};
type Narrowed<G> = G extends Guard<infer T> ? T : never;

/**
 * A map whose listed fields pass their guards (fields wrapped in
 * {@link optional} may be absent); other fields are allowed and ignored. The
 * body type is inferred: `shape({ cell: int() })` guards `{ cell: number }`.
 */
export function shape<F extends Record<string, Guard<unknown>>>(fields: F): Guard<Shaped<F>> {
  const entries = Object.entries(fields);
  return (value): value is Shaped<F> =>
    isMap(value) &&
    entries.every(([key, guard]) => guard(Object.hasOwn(value, key) ? value[key] : undefined));
}
