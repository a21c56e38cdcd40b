import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeClientFrame,
  encodeFrame,
  ErrorCode,
  isValue,
  ProtocolError,
  type DecodeResult,
} from "@rookery/protocol";
import { decoders, families } from "./fixtures";
import { bytesOf, concat, fixstr, plain } from "./helpers";

// Every input is fed to all eight decoders; the suite must reach this many inputs.
const MIN_INPUTS = 100_000;
let inputs = 0;

const codes = new Set<string>(Object.values(ErrorCode));
const allKinds = [...new Set(families.flatMap((f) => f.frames.map((frame) => frame.k)))];
const validBytes = families.flatMap((f) => f.frames.map((frame) => encodeFrame(frame)));

function checkResult(result: DecodeResult<unknown>): void {
  if (result.ok) {
    // Whatever is accepted must re-encode to something accepted again.
    const again = decodersAccepting(result.frame);
    if (!again)
      throw new Error(`accepted frame does not round-trip: ${JSON.stringify(result.frame)}`);
    return;
  }
  if (!(result.error instanceof ProtocolError))
    throw new Error(`untyped error ${String(result.error)}`);
  if (!codes.has(result.error.code)) throw new Error(`unknown code ${result.error.code}`);
}

function decodersAccepting(frame: unknown): boolean {
  const bytes = bytesOf(frame);
  return decoders.some((decode) => decode(bytes).ok);
}

function feed(bytes: Uint8Array): void {
  inputs++;
  for (const decode of decoders) checkResult(decode(bytes));
}

// ---- generators ----

const randomBytes = fc.uint8Array({ maxLength: 200 });

/** A map header and a real `k`, then random bytes, so decoding gets past the first checks. */
const mapLikeBytes = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    fc.constantFrom(...allKinds),
    fc.uint8Array({ maxLength: 120 }),
  )
  .map(([entries, kind, rest]) => concat([0x80 | entries], fixstr("k"), fixstr(kind), rest));

const validFrame = fc.constantFrom(...validBytes);

type Mutation = (bytes: Uint8Array) => Uint8Array;

const bitFlips: fc.Arbitrary<Mutation> = fc
  .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 })
  .map((flips) => (bytes) => {
    const out = bytes.slice();
    for (const [at, bit] of flips) if (out.length > 0) out[at % out.length]! ^= 1 << bit;
    return out;
  });

const truncation: fc.Arbitrary<Mutation> = fc
  .nat()
  .map((n) => (bytes) => bytes.slice(0, n % (bytes.length + 1)));

const splice: fc.Arbitrary<Mutation> = fc
  .tuple(fc.nat(), fc.nat({ max: 8 }), fc.uint8Array({ maxLength: 12 }))
  .map(([at, remove, insert]) => (bytes) => {
    const start = at % (bytes.length + 1);
    return Uint8Array.from([
      ...bytes.subarray(0, start),
      ...insert,
      ...bytes.subarray(start + remove),
    ]);
  });

const interesting = [
  0x00, 0x7f, 0x80, 0x8f, 0x90, 0xc0, 0xc1, 0xc4, 0xc7, 0xd4, 0xd9, 0xdb, 0xdd, 0xdf, 0xff,
];
const interestingByte: fc.Arbitrary<Mutation> = fc
  .tuple(fc.nat(), fc.constantFrom(...interesting))
  .map(([at, byte]) => (bytes) => {
    const out = bytes.slice();
    if (out.length > 0) out[at % out.length] = byte;
    return out;
  });

const mutation = fc.oneof(bitFlips, truncation, splice, interestingByte);
const mutatedFrame = fc
  .tuple(validFrame, fc.array(mutation, { minLength: 1, maxLength: 3 }))
  .map(([bytes, steps]) =>
    steps.reduce<Uint8Array>((acc, step) => step(acc), Uint8Array.from(bytes)),
  );

/** Values MessagePack can carry, including ones no frame field accepts. */
const msgpackValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double(),
    fc.constantFrom(0, 1, -1, 2 ** 53, 2 ** 32, Number.MAX_SAFE_INTEGER),
    fc.string({ maxLength: 20 }),
    fc.constantFrom("chess", "g-42", "$join", "snapshot", "replay", "alice:Sx7Qm2Lp9Zt4Wn8R", ""),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** A valid frame with some fields replaced by random values, or a random map with a real kind. */
const wrongShape = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...families.flatMap((f) => f.frames)),
      fc.array(fc.tuple(fc.nat(), msgpackValue), { minLength: 1, maxLength: 3 }),
    )
    .map(([frame, swaps]) => {
      const copy: Record<string, unknown> = { ...frame };
      const keys = Object.keys(copy);
      for (const [at, value] of swaps) copy[keys[at % keys.length]!] = value;
      return bytesOf(copy);
    }),
  fc
    .tuple(
      fc.constantFrom(...allKinds),
      fc.dictionary(fc.string({ maxLength: 8 }), msgpackValue, { maxKeys: 6 }),
    )
    .map(([k, rest]) => bytesOf({ ...rest, k })),
  msgpackValue.map((value) => bytesOf(value)),
);

// ---- properties ----

const run = (arbitrary: fc.Arbitrary<Uint8Array>, numRuns: number) =>
  fc.assert(
    fc.property(arbitrary, (bytes) => feed(bytes)),
    { numRuns },
  );

describe("fuzz - every decoder returns a frame or a typed error", () => {
  it("fuzz - random bytes", () => run(randomBytes, 20_000));
  it("fuzz - random bytes behind a map header", () => run(mapLikeBytes, 20_000));
  it("fuzz - mutated valid frames (bit flips, truncation, splices)", () =>
    run(mutatedFrame, 35_000));
  it("fuzz - MessagePack values of the wrong shape", () => run(wrongShape, 25_000));

  it("fuzz - every Value body round-trips through every frame that carries one", () => {
    fc.assert(
      fc.property(msgpackValue, (body) => {
        if (!isValue(body)) return;
        const frame = {
          k: "input",
          room: { type: "t", id: "i" },
          seq: 1,
          type: "x",
          body,
        } as const;
        const decoded = decodeClientFrame(encodeFrame(frame));
        expect(decoded.ok && plain(decoded.frame)).toStrictEqual(plain(frame));
      }),
      { numRuns: 3_000 },
    );
  });

  it(`fuzz - fed at least ${MIN_INPUTS} inputs to every decoder`, () => {
    expect(inputs).toBeGreaterThanOrEqual(MIN_INPUTS);
    console.info(`fuzz: ${inputs} inputs x ${decoders.length} decoders`);
  });
});
