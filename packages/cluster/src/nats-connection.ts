/**
 * How every Rookery process (node, gateway, co-located server, the CLI)
 * connects to NATS: credentials (a `.creds` file or an nkey seed file) and
 * TLS, from the environment or flags, in one place (docs/security.md).
 */
import { readFileSync } from "node:fs";
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";

/** TLS files of a NATS connection (PEM paths). */
export interface NatsTlsFiles {
  /** CA bundle that signed the server's certificate. */
  ca?: string;
  /** Client certificate, for servers that verify clients (mutual TLS). */
  cert?: string;
  /** Key of the client certificate. */
  key?: string;
}

/** Credentials and TLS of a NATS connection; every field is a file path. */
export interface NatsAuth {
  /** A `.creds` file (user JWT + nkey seed, decentralized auth). */
  creds?: string;
  /** A file holding one user nkey seed (`SU…`), for servers that list users by nkey. */
  nkey?: string;
  /** TLS is used when any of these is set (or the URL is `tls://`). */
  tls?: NatsTlsFiles;
}

/** A NATS setting that cannot be used: the file is missing or holds no key. */
export class NatsAuthConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  override readonly name = "NatsAuthConfigError";
}

/** The roles that have their own variables in a co-located process (`NATS_GATEWAY_NKEY`, …). */
export type NatsAuthRole = "gateway" | "node";

/**
 * `NATS_CREDS`, `NATS_NKEY`, `NATS_TLS_CA`, `NATS_TLS_CERT`, `NATS_TLS_KEY`.
 * With `role`, `NATS_<ROLE>_CREDS` / `NATS_<ROLE>_NKEY` win over the shared
 * ones, so a process playing both roles connects each with its own user.
 * Files are checked here, at start; `invalid` builds the service's own error.
 */
export function natsAuthFromEnv(
  env: NodeJS.ProcessEnv,
  role?: NatsAuthRole,
  invalid: (message: string) => Error = (message) => new NatsAuthConfigError(message),
): NatsAuth {
  const pick = (name: string): [string, string] | undefined => {
    const specific = role ? `NATS_${role.toUpperCase()}_${name}` : undefined;
    if (specific && env[specific]) return [specific, env[specific]];
    const value = env[`NATS_${name}`];
    return value ? [`NATS_${name}`, value] : undefined;
  };
  const auth: NatsAuth = {};
  const creds = pick("CREDS");
  const nkey = pick("NKEY");
  if (creds && nkey) throw invalid(`set only one of ${creds[0]} and ${nkey[0]}`);
  if (creds) auth.creds = checkedFile(creds[0], creds[1], invalid);
  if (nkey) {
    auth.nkey = checkedFile(nkey[0], nkey[1], invalid);
    readSeed(auth.nkey, (m) => invalid(`${nkey[0]}: ${m}`));
  }
  const tls: NatsTlsFiles = {};
  for (const [field, name] of [
    ["ca", "NATS_TLS_CA"],
    ["cert", "NATS_TLS_CERT"],
    ["key", "NATS_TLS_KEY"],
  ] as const) {
    const value = env[name];
    if (value) tls[field] = checkedFile(name, value, invalid);
  }
  if (Boolean(tls.cert) !== Boolean(tls.key)) {
    throw invalid("NATS_TLS_CERT and NATS_TLS_KEY go together");
  }
  if (Object.keys(tls).length > 0) auth.tls = tls;
  return auth;
}

function checkedFile(name: string, path: string, invalid: (message: string) => Error): string {
  try {
    readFileSync(path);
  } catch (error) {
    throw invalid(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
  }
  return path;
}

const SEED = /^SU[A-Z2-7]{56}$/;

/** The user seed of an nkey file (the first line that is one; comments allowed). */
function readSeed(path: string, invalid: (message: string) => Error): Uint8Array {
  const text = readFileSync(path, "utf8");
  const seed = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => SEED.test(l));
  if (!seed) throw invalid(`${path} holds no user nkey seed (SU…)`);
  return new TextEncoder().encode(seed);
}

/**
 * Connection options for `auth` (no credentials and no TLS: none added).
 * Files are read now; a creds file or seed that changes takes effect at the
 * next start.
 */
export function natsConnectionOptions(
  auth: NatsAuth | undefined,
  options: NodeConnectionOptions = {},
): NodeConnectionOptions {
  const out: NodeConnectionOptions = { ...options };
  if (auth?.creds) out.authenticator = credsAuthenticator(readFileSync(auth.creds));
  else if (auth?.nkey) {
    out.authenticator = nkeyAuthenticator(readSeed(auth.nkey, (m) => new NatsAuthConfigError(m)));
  }
  if (auth?.tls) {
    const { ca, cert, key } = auth.tls;
    out.tls = {
      ...(ca ? { caFile: ca } : {}),
      ...(cert ? { certFile: cert } : {}),
      ...(key ? { keyFile: key } : {}),
    };
  }
  return out;
}

/**
 * A {@link ConnectRetry} that logs each failed attempt as one warning line
 * (`cannot connect to NATS at …: connection refused …; retrying in 1000 ms`).
 */
export function loggedConnectRetry(
  log: { warn(fields: object, message: string): void },
  options: Omit<ConnectRetry, "onRetry"> = {},
): ConnectRetry {
  return {
    ...options,
    onRetry: ({ attempt, delayMs, error }) =>
      log.warn(
        { code: error.code, attempt, retryInMs: delayMs },
        `${error.message}; retrying in ${delayMs} ms`,
      ),
  };
}

/** A NATS connection that could not be made, with the likely fix in the message. */
export class NatsConnectError extends Error {
  readonly code = "NATS_CONNECT_FAILED";
  override readonly name = "NatsConnectError";

  /** Nothing reached (refused, unresolvable, timed out), as opposed to a refusal by the server. */
  get transient(): boolean {
    return !/authoriz|authentic|user|nkey|credentials|certificate|self[- ]signed|tls|ssl|issuer/i.test(
      causeMessage(this.cause),
    );
  }
}

/**
 * Connects with {@link natsConnectionOptions}; a refusal (authentication,
 * TLS, nothing listening) becomes a {@link NatsConnectError} naming the
 * servers, the cause and the setting to check.
 */
export async function connectNats(
  auth: NatsAuth | undefined,
  options: NodeConnectionOptions,
  retry?: ConnectRetry,
): Promise<NatsConnection> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect(natsConnectionOptions(auth, options));
    } catch (cause) {
      const error = new NatsConnectError(describeConnectFailure(cause, auth, options.servers), {
        cause,
      });
      const delayMs = Math.min(retry?.maxDelayMs ?? 5000, 250 * 2 ** Math.min(attempt - 1, 10));
      const giveUp = retry?.giveUpAfterMs ?? Infinity;
      if (!retry || !error.transient || Date.now() - started + delayMs > giveUp) throw error;
      retry.onRetry?.({ attempt, delayMs, error });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * Retrying the first connection, for processes that start before their NATS
 * servers (a container restart, a rolling deploy, `depends_on` without
 * health): a server that cannot be reached is tried again with backoff
 * (250 ms doubling up to `maxDelayMs`); a refusal (credentials, TLS) is
 * final at once.
 */
export interface ConnectRetry {
  /** Called before each wait, with the failure (its message names servers and cause). */
  onRetry?(info: { attempt: number; delayMs: number; error: NatsConnectError }): void;
  /** Stop retrying once this long has passed since the first attempt. @default Infinity */
  giveUpAfterMs?: number;
  /** Longest wait between attempts. @default 5000 */
  maxDelayMs?: number;
}

function describeConnectFailure(
  cause: unknown,
  auth: NatsAuth | undefined,
  servers: NodeConnectionOptions["servers"],
): string {
  const where = Array.isArray(servers) ? servers.join(",") : (servers ?? "nats://127.0.0.1:4222");
  const message = causeMessage(cause);
  let hint = "";
  if (/authoriz|authentic|user|nkey|credentials/i.test(message)) {
    hint =
      auth?.creds || auth?.nkey
        ? "the server refused these credentials (check NATS_CREDS / NATS_NKEY, or --creds / --nkey)"
        : "the server requires credentials: set NATS_CREDS or NATS_NKEY (CLI: --creds / --nkey)";
  } else if (/certificate|self[- ]signed|tls|ssl|issuer/i.test(message)) {
    hint = auth?.tls?.ca
      ? "TLS failed: check that NATS_TLS_CA (--tls-ca) is the CA that signed the server's certificate"
      : "TLS failed: the server's certificate is not trusted; set NATS_TLS_CA (CLI: --tls-ca) to its CA";
  }
  return `cannot connect to NATS at ${where}: ${message}${hint ? `; ${hint}` : ""}`;
}

function causeMessage(cause: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = cause; e instanceof Error && parts.length < 4; e = e.cause) {
    if (!parts.includes(e.message)) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(": ") : String(cause);
}
