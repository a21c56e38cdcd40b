import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * A NATS CLI context (`nats context save`): `~/.config/nats/context/<name>.json`
 * (or under `$XDG_CONFIG_HOME`). The fields Rookery uses; the others are ignored.
 */
export interface NatsContext {
  name: string;
  url?: string;
  creds?: string;
  nkey?: string;
  cert?: string;
  key?: string;
  ca?: string;
  user?: string;
  password?: string;
  token?: string;
}

export class ContextError extends Error {
  readonly code = "CONTEXT_INVALID";
  override readonly name = "ContextError";
}

export function contextDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "nats", "context");
}

/** Reads the named context; throws ContextError naming the file when it cannot. */
export function loadContext(name: string, env: NodeJS.ProcessEnv = process.env): NatsContext {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith(".")) {
    throw new ContextError(`invalid context name ${JSON.stringify(name)}`);
  }
  const file = join(contextDir(env), `${name}.json`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ContextError(
      code === "ENOENT"
        ? `context ${name} not found: no ${file} (create it with \`nats context save ${name} …\`)`
        : `context ${name}: cannot read ${file} (${code})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ContextError(`context ${name}: ${file} is not JSON`);
  }
  if (typeof value !== "object" || value === null) {
    throw new ContextError(`context ${name}: ${file} is not a JSON object`);
  }
  const raw = value as Record<string, unknown>;
  const out: NatsContext = { name };
  for (const field of [
    "url",
    "creds",
    "nkey",
    "cert",
    "key",
    "ca",
    "user",
    "password",
    "token",
  ] as const) {
    const v = raw[field];
    if (typeof v === "string" && v !== "") out[field] = expandHome(v);
  }
  return out;
}

function expandHome(path: string): string {
  return path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}
