import { register } from "node:module";
import { parse, type Node } from "acorn";
import MagicString from "magic-string";

/** The name an instrumented module binds the budget counter to (sandbox.ts `BudgetCounter`). */
const BUDGET = "__rookeryBudget$";
/** The check: a decrement and a compare, no call, until the counter runs out. */
const CHECK = `--${BUDGET}.n < 0 && ${BUDGET}.slow()`;
const MARK = `${BUDGET}.mark`;

/**
 * Binds the counter once per module. Before the runtime set it up (a module
 * evaluated outside a node) the checks do nothing and nothing is marked, so
 * its rooms would get the vm fallback: never less protection, only more cost.
 */
const PRELUDE =
  `const ${BUDGET} = globalThis[Symbol.for("rookery.budget")] ?? ` +
  `{ n: 1e9, slow() { this.n = 1e9; }, mark(d) { return d; } };`;

export interface Instrumented {
  code: string;
  /** Loop bodies that got a check. */
  loops: number;
  /** Function bodies that got a check. */
  functions: number;
  /** `defineRoom(...)` calls whose result is marked as instrumented. */
  rooms: number;
}

type AnyNode = Node & Record<string, unknown>;

const LOOPS = new Set([
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "WhileStatement",
  "DoWhileStatement",
]);
const FUNCTIONS = new Set(["FunctionDeclaration", "FunctionExpression", "ArrowFunctionExpression"]);

/**
 * Compiles budget checks into JavaScript (ES module) room code, for the
 * cooperative handler budget (sandbox.ts `runCooperative`):
 *
 * - every loop body (for, for-in, for-of, while, do-while) and every function
 *   body starts with a call to the budget check, so a runaway loop, a
 *   recursion that catches its own RangeError, or a native iteration calling
 *   back into room code (`forEach`, `sort` with a comparator, `replace` with a
 *   function) meets a check at least once per iteration;
 * - every `defineRoom(...)` call's result is marked, so the runtime knows
 *   this definition's handlers carry checks and can skip the vm timeout.
 *
 * Insertions stay on their line (stack traces keep their line numbers).
 * Throws on a syntax error: the caller then leaves the module as it was,
 * and its rooms get the vm fallback.
 */
export function instrumentSource(code: string): Instrumented {
  if (code.includes(BUDGET)) {
    throw new Error("module already instrumented (or uses the reserved names)");
  }
  const ast = parse(code, {
    ecmaVersion: "latest",
    sourceType: "module",
    allowHashBang: true,
  }) as unknown as AnyNode;
  const s = new MagicString(code);
  const out: Instrumented = { code, loops: 0, functions: 0, rooms: 0 };
  // Openings go right of their index in visiting order (outer first), closings
  // left of theirs in reverse visiting order (inner first): nesting stays right.
  const wrap = (node: Node, open: string, close: string) => {
    s.appendRight(node.start, open);
    s.prependLeft(node.end, close);
  };
  const checkBody = (body: AnyNode) => {
    if (body.type === "BlockStatement") {
      const statements = body.body as AnyNode[];
      let at = body.start + 1;
      let lead = "";
      // After a directive prologue ("use strict"), which must stay first (and may lack its `;`).
      for (const st of statements) {
        if (typeof st.directive !== "string") break;
        at = st.end;
        lead = ";";
      }
      s.appendRight(at, `${lead}${CHECK};`);
    } else if (body.type.endsWith("Statement") || body.type.endsWith("Declaration")) {
      wrap(body, `{${CHECK};`, "}");
    } else {
      // An arrow function's expression body.
      wrap(body, `(${CHECK}, `, ")");
    }
  };
  const visit = (node: AnyNode) => {
    if (LOOPS.has(node.type)) {
      checkBody(node.body as AnyNode);
      out.loops++;
    } else if (FUNCTIONS.has(node.type)) {
      checkBody(node.body as AnyNode);
      out.functions++;
    } else if (node.type === "CallExpression" && isDefineRoom(node.callee as AnyNode)) {
      wrap(node, `${MARK}(`, ")");
      out.rooms++;
    }
    for (const key in node) {
      if (key === "type" || key === "start" || key === "end") continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (const child of value) if (isNode(child)) visit(child);
      } else if (isNode(value)) {
        visit(value);
      }
    }
  };
  visit(ast);
  // On the first line (after a hashbang), so that line numbers stay as they were.
  if (code.startsWith("#!")) s.appendLeft(code.indexOf("\n") + 1 || code.length, PRELUDE);
  else s.prepend(PRELUDE);
  out.code = s.toString();
  return out;
}

function isNode(value: unknown): value is AnyNode {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { type?: unknown }).type === "string"
  );
}

/** `defineRoom(...)`, `x.defineRoom(...)` and `(0, x.defineRoom)(...)` (a bundler's import call). */
function isDefineRoom(callee: AnyNode): boolean {
  if (callee.type === "SequenceExpression") {
    const list = callee.expressions as AnyNode[];
    return list.length > 0 && isDefineRoom(list[list.length - 1]!);
  }
  if (callee.type === "Identifier") return callee.name === "defineRoom";
  if (callee.type === "MemberExpression" && !callee.computed) {
    return (callee.property as AnyNode).name === "defineRoom";
  }
  return false;
}

const REGISTERED = Symbol.for("rookery.instrument.registered");

/**
 * Instruments, from now on, every module that `importer` imports
 * dynamically (the room modules), and every module those import by relative
 * path, as Node loads them (a node:module load hook, chained after tsx's, so
 * it sees JavaScript). Once per process; false if the hooks could not be
 * registered (e.g. the process does not run through tsx): the rooms then get
 * the vm timeout. Modules already loaded before this call stay as they were.
 */
export function instrumentRoomModules(importer: string): boolean {
  const g = globalThis as { [REGISTERED]?: string };
  if (g[REGISTERED] !== undefined) return g[REGISTERED] === importer;
  try {
    register(new URL("./instrument-hooks.ts", import.meta.url).href, {
      parentURL: import.meta.url,
      data: { importer },
    });
  } catch {
    return false;
  }
  g[REGISTERED] = importer;
  return true;
}
