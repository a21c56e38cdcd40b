/**
 * Environment parsing shared by Rookery's processes (nodes and gateways):
 * each parses its environment once, at start, with these.
 */

/** A comma-separated list; undefined when unset or empty. */
export function envList(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

/**
 * An integer variable within [min, max]; undefined when unset or empty.
 * Anything else throws what `invalid` builds (each service its own error class).
 */
export function envInt(
  env: NodeJS.ProcessEnv,
  name: string,
  min: number,
  max: number,
  invalid: (message: string) => Error,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}
