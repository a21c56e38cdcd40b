/**
 * The data model of application payloads (`body`, `state`, `result`): what
 * plain MessagePack can carry between any two languages. Decoded `bin` values
 * are Uint8Arrays (Buffers on Node); integers beyond 2^53 lose precision.
 * Numbers are finite: NaN and ±Infinity are not Values (JSON cannot carry
 * them), and a gateway rejects a client frame holding one (INVALID_FIELD).
 */
import { defaultProtocolLimits } from "./limits";

const DEFAULT_VALUE_DEPTH = defaultProtocolLimits().maxDepth - 1;

export type Value =
  null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

/**
 * Whether `value` fits the {@link Value} model within `maxDepth` levels of
 * nesting (default: what fits in a client frame, whose own map is one level).
 * Lets a producer check application data before encoding, since a receiver
 * rejects anything else (Dates, Maps, undefined in arrays, …).
 */
export function isValue(value: unknown, maxDepth = DEFAULT_VALUE_DEPTH): value is Value {
  if (value === null) return true;
  switch (typeof value) {
    case "boolean":
    case "string":
      return true;
    case "number":
      // NaN and ±Infinity: JSON has no form for them, so gateways reject them (§1).
      return Number.isFinite(value);
    case "object":
      return maxDepth > 0 && isContainerValue(value, maxDepth - 1);
    default:
      return false;
  }
}

function isContainerValue(value: object, maxDepth: number): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every((item) => isValue(item, maxDepth));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.entries(value).every(
    ([key, item]) => key !== "__proto__" && (item === undefined || isValue(item, maxDepth)),
  );
}
