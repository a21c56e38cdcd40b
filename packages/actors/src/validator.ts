import type { Value } from "@rookery/protocol";
import type { Guard } from "./guards";
import { HandlerTimeoutError } from "./sandbox";

/**
 * The Standard Schema v1 interface (https://standardschema.dev), written out
 * here because it is a types-only spec: zod, valibot, arktype and others
 * implement it, so their schemas validate message bodies with no adapter.
 */
export type StandardSchemaV1<Input = unknown, Output = Input> = {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardSchemaV1Result<Output> | Promise<StandardSchemaV1Result<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
};

export type StandardSchemaV1Result<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardSchemaV1Issue[] };

export type StandardSchemaV1Issue = {
  readonly message: string;
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
};

/**
 * What checks a message body: a type guard (see guards.ts) or a Standard
 * Schema whose `validate` answers synchronously.
 */
export type Validator<T> =
  Guard<T> | ((body: Value) => body is Value & T) | StandardSchemaV1<unknown, T>;

/** The body type a validator admits; `Value` (anything decoded) when there is none. */
export type BodyOf<V> = unknown extends V
  ? Value
  : V extends StandardSchemaV1<unknown, infer T>
    ? T
    : V extends Guard<infer T>
      ? T
      : V extends ((body: Value) => body is infer T extends Value)
        ? T
        : Value;

/** The outcome of checking a body: the body to hand on (a schema's output), or why not. */
export type Checked = { ok: true; body: Value } | { ok: false; reason?: string; cause?: unknown };

/**
 * Runs a validator on a body. A guard returning false, a schema's issues and
 * an exception all come back as `ok: false` (but a budget interruption goes
 * on up); an asynchronous schema is refused, because handlers run
 * synchronously and replay must too.
 */
export function checkBody(validator: Validator<Value>, body: Value): Checked {
  try {
    if (typeof validator === "function")
      return validator(body) ? { ok: true, body } : { ok: false };
    const result: unknown = validator["~standard"].validate(body);
    if (result instanceof Promise) {
      // Nobody awaits it: keep its failure from surfacing as an unhandled rejection.
      result.catch(() => undefined);
      return {
        ok: false,
        reason: "its validator is asynchronous (only synchronous ones are supported)",
      };
    }
    const { issues, value } = result as {
      issues?: readonly StandardSchemaV1Issue[];
      value?: Value;
    };
    if (issues) return { ok: false, reason: issues.map(describe).join("; ") || undefined };
    return { ok: true, body: value as Value };
  } catch (cause) {
    if (cause instanceof HandlerTimeoutError) throw cause;
    return { ok: false, cause };
  }
}

function describe(issue: StandardSchemaV1Issue): string {
  const path = (issue.path ?? []).map((p) => String(typeof p === "object" ? p.key : p));
  return path.length > 0 ? `${path.join(".")}: ${issue.message}` : issue.message;
}
