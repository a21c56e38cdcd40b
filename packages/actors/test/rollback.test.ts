import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { RoomCore } from "@rookery/actors/internal";
import type { Value } from "@rookery/protocol";
import { memberInfo } from "./helpers";

type Node = Record<string, unknown> | unknown[];
/** One mutation: a path of child picks, then what to do at the node reached. */
type Op = { path: number[]; kind: number; key: string; value: Value; n: number };

const alice = memberInfo("alice");
const isNode = (v: unknown): v is Node => v !== null && typeof v === "object";

/** Walks `path` from the root, each number picking one of the node's object children. */
function reach(root: Node, path: number[]): Node {
  let node = root;
  for (const pick of path) {
    const children = Object.values(node).filter(isNode);
    if (children.length === 0) break;
    node = children[pick % children.length]!;
  }
  return node;
}

function mutate(node: Node, op: Op): void {
  if (Array.isArray(node)) {
    const at = node.length === 0 ? 0 : op.n % node.length;
    const edits = [
      () => node.push(op.value),
      () => node.pop(),
      () => node.splice(at, 1 + (op.n % 3), op.value),
      () => (node.length = at),
      () => (node[at] = op.value),
      () => node.reverse(),
      () => node.unshift(op.value),
      () => node.sort(),
    ];
    edits[op.kind % edits.length]!();
    return;
  }
  const keys = Object.keys(node);
  const existing = keys.length > 0 ? keys[op.n % keys.length]! : op.key;
  const edits = [
    () => (node[op.key] = op.value),
    () => delete node[existing],
    () => (node[existing] = op.value),
    () => Object.assign(node, { [op.key]: op.value, [existing]: op.value }),
  ];
  edits[op.kind % edits.length]!();
}

/** Sets the state to a body, or runs a mutation script, then emits and fails as told. */
const scriptRoom = {
  type: "script",
  initialState: () => ({}),
  onMessage: {
    set: (ctx: { state: unknown }, body: Value) => {
      ctx.state = body;
    },
    run: (
      ctx: { state: Node; emit: (t: string, b: Value) => void; reject: (m: string) => never },
      body: { ops: Op[]; end: number },
    ) => {
      for (const op of body.ops) {
        if (op.kind === 99) ctx.state = { replaced: op.value } as Node;
        else mutate(reach(ctx.state, op.path), op);
        ctx.emit("step", ctx.state as Value);
      }
      if (body.end === 0) throw new Error("handler bug");
      if (body.end === 1) ctx.reject("refused");
      return null;
    },
  },
};

// Through JSON, as bodies arrive decoded: plain prototypes, and "__proto__" as an own key.
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const value = fc.jsonValue({ maxDepth: 4 }).map(plain) as fc.Arbitrary<Value>;
const state = fc
  .oneof(
    fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 6 }),
    fc.array(value, { maxLength: 6 }),
  )
  .map(plain);
const op: fc.Arbitrary<Op> = fc
  .record({
    path: fc.array(fc.nat(9), { maxLength: 4 }),
    kind: fc.oneof(fc.nat(9), fc.constant(99)),
    key: fc.string({ maxLength: 4 }),
    value,
    n: fc.nat(20),
  })
  .map(plain);

function coreWith(initial: Value): RoomCore {
  const core = new RoomCore(scriptRoom as never, { type: "script", id: "p" }, null, 0);
  core.apply({ k: "join", member: alice, at: 1 });
  core.apply({ k: "input", member: alice.id, seq: 1, type: "set", body: initial, at: 2 });
  return core;
}

const run = (ops: Op[], end: number) =>
  ({ k: "input", member: alice.id, seq: 2, type: "run", body: { ops, end }, at: 3 }) as const;

describe("rollback", () => {
  test("rollback - any mutation script that throws or rejects leaves the exact previous state", () => {
    fc.assert(
      fc.property(state, fc.array(op, { maxLength: 8 }), fc.nat(1), (initial, ops, end) => {
        const core = coreWith(initial);
        const before = core.state;
        const copy = structuredClone(before);
        const text = JSON.stringify(before);
        const seq = core.seq;
        expect(() => core.apply(run(ops, end) as never)).toThrow(
          end === 0 ? "handler bug" : "refused",
        );
        expect(core.state).toBe(before);
        expect(core.state).toStrictEqual(copy);
        // Key order and array lengths too: what a snapshot would encode.
        expect(JSON.stringify(core.state)).toBe(text);
        expect(core.seq).toBe(seq);
        expect(core.lastSeq(alice.id)).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  test("rollback - a committed script matches its replay, and each event holds the state when emitted", () => {
    fc.assert(
      fc.property(state, fc.array(op, { maxLength: 8 }), (initial, ops) => {
        const live = coreWith(initial);
        const committed = live.state;
        const copy = structuredClone(committed);
        const sent = structuredClone(ops);
        const { events } = live.apply(run(ops, 2) as never);
        // The entry keeps its body as sent (it is journaled after the apply).
        expect(ops).toStrictEqual(sent);
        // The committed state object is never edited by a later apply.
        expect(committed).toStrictEqual(copy);
        const replayed = coreWith(initial);
        replayed.replay(run(ops, 2) as never, 0);
        expect(JSON.stringify(replayed.state)).toBe(JSON.stringify(live.state));
        // Each emitted body is its own copy: later steps did not change it.
        for (let i = 0; i < ops.length; i++) {
          const partial = coreWith(initial);
          partial.apply(run(ops.slice(0, i + 1), 2) as never);
          expect(events[i]!.body).toStrictEqual(partial.state);
        }
      }),
      { numRuns: 150 },
    );
  });
});
