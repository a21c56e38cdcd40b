import { describe, expect, test } from "vitest";
import { copyPlain, MAX_DEPTH } from "../src/plain-copy";

describe("plain copy", () => {
  test("plain copy - copies nested objects and arrays, sharing nothing", () => {
    const value = { a: [1, { b: "x" }, null], c: { d: true, e: [] as number[] }, 2: "two" };
    const copy = copyPlain(value);
    expect(copy).toStrictEqual(value);
    expect(Object.keys(copy)).toEqual(Object.keys(value));
    expect(copy.a).not.toBe(value.a);
    expect(copy.a[1]).not.toBe(value.a[1]);
    expect(copy.c.e).not.toBe(value.c.e);
    expect(copyPlain("s")).toBe("s");
    expect(copyPlain(null)).toBe(null);
  });

  test("plain copy - an own __proto__ key stays a key and the prototype stays plain", () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}, "k": 2}') as Record<string, unknown>;
    const copy = copyPlain(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(["__proto__", "k"]);
    expect(copy["polluted"]).toBeUndefined();
    expect(copy).toStrictEqual(value);
  });

  test("plain copy - bytes, sparse arrays, other prototypes and cycles go to structuredClone", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const copied = copyPlain({ bytes });
    expect(copied.bytes).toBeInstanceOf(Uint8Array);
    expect(copied.bytes).not.toBe(bytes);
    expect([...copied.bytes]).toEqual([1, 2, 3]);
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    expect(copyPlain(sparse)).toStrictEqual(sparse);
    expect(1 in copyPlain(sparse)).toBe(false);
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic["self"] = cyclic;
    const copy = copyPlain(cyclic);
    expect(copy["self"]).toBe(copy);
    let deep: unknown = 0;
    for (let i = 0; i < MAX_DEPTH + 10; i++) deep = [deep];
    expect(copyPlain(deep)).toStrictEqual(deep);
  });
});
