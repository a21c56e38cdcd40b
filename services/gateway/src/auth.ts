import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import {
  ErrorCode,
  isDisplayName,
  isUserId,
  ProtocolError,
  type TokenClaims,
} from "@rookery/protocol";

const MAX_TOKEN_LENGTH = 8192;

/** The keys a gateway accepts: one for tokens without `kid`, and any number by `kid`. */
export interface TokenSecrets {
  /** Verifies tokens that carry no `kid` header. */
  secret?: string;
  /** Verifies tokens whose `kid` header names the entry; the last entry signs. */
  secrets?: Record<string, string>;
}

/**
 * The HS256 verifier of client tokens (docs/protocol.md §3). A token with a
 * `kid` header is checked with that key only, so a deployment rotates its
 * secret by adding a new kid, moving its issuer to it, then dropping the old.
 */
export class TokenVerifier {
  readonly #default: Uint8Array | undefined;
  readonly #byKid = new Map<string, Uint8Array>();
  readonly #signer: { kid?: string; key: Uint8Array };

  constructor(keys: string | TokenSecrets) {
    const { secret, secrets = {} } = typeof keys === "string" ? { secret: keys } : keys;
    const encode = (s: string) => new TextEncoder().encode(s);
    this.#default = secret === undefined ? undefined : encode(secret);
    for (const [kid, value] of Object.entries(secrets)) this.#byKid.set(kid, encode(value));
    const last = [...this.#byKid].at(-1);
    if (last) this.#signer = { kid: last[0], key: last[1] };
    else if (this.#default) this.#signer = { key: this.#default };
    else throw new Error("TokenVerifier needs a secret");
  }

  /** The key that verifies `token`, by its `kid` header. */
  #keyFor(token: string): Uint8Array {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch (error) {
      throw authFailed("malformed token", error);
    }
    if (kid === undefined) {
      if (this.#default) return this.#default;
      throw authFailed("token has no kid and no key without kid is configured");
    }
    const key = typeof kid === "string" ? this.#byKid.get(kid) : undefined;
    if (!key) throw authFailed(`unknown key id ${JSON.stringify(kid)}`);
    return key;
  }

  /** The token's claims, or a ProtocolError AUTH_FAILED / TOKEN_EXPIRED. */
  async verify(
    token: string,
  ): Promise<Required<Pick<TokenClaims, "sub" | "name" | "exp">> & TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw authFailed("token longer than 8192 characters");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#keyFor(token), {
        algorithms: ["HS256"],
        requiredClaims: ["sub", "exp"],
      }));
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new ProtocolError(ErrorCode.TOKEN_EXPIRED, "token expired", { cause: error });
      }
      throw authFailed(describe(error), error);
    }
    return checkClaims(payload);
  }

  /**
   * Signs a token; used by the demo page and tests (applications sign their
   * own). The newest `kid` signs (with its `kid` header), else the secret.
   */
  sign(
    claims: { sub: string; name?: string; rooms?: string[] },
    ttlSeconds = 3600,
  ): Promise<string> {
    const { kid, key } = this.#signer;
    return new SignJWT({
      name: claims.name ?? "",
      ...(claims.rooms ? { rooms: claims.rooms } : {}),
    })
      .setProtectedHeader(kid === undefined ? { alg: "HS256" } : { alg: "HS256", kid })
      .setSubject(claims.sub)
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(key);
  }
}

function checkClaims(payload: Record<string, unknown>) {
  const { sub, name = "", exp, rooms } = payload;
  if (!isUserId(sub)) throw authFailed("claim sub is not a valid user id");
  if (!isDisplayName(name)) throw authFailed("claim name is not a valid display name");
  if (typeof exp !== "number") throw authFailed("claim exp is not a number");
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((r) => typeof r === "string"))) {
    throw authFailed("claim rooms is not an array of strings");
  }
  // Kept for the connection's life: no `rooms` slot when the token has none (8 B per client).
  return rooms === undefined ? { sub, name, exp } : { sub, name, exp, rooms: rooms as string[] };
}

function authFailed(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(ErrorCode.AUTH_FAILED, `authentication failed: ${message}`, { cause });
}

function describe(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED") return "bad signature";
  if (code === "ERR_JOSE_ALG_NOT_ALLOWED") return "algorithm not allowed";
  if (code === "ERR_JWT_CLAIM_VALIDATION_FAILED") return (error as Error).message;
  return "malformed token";
}

/**
 * Whether a WebSocket upgrade may proceed: requests without an `Origin` (not
 * a browser) always may; a browser's origin must be listed (or `*`), or be
 * the gateway's own (the page came from this host, like the demo page).
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes("*")) return true;
  let normalized: URL;
  try {
    normalized = new URL(origin);
  } catch {
    return false;
  }
  if (allowed.includes(normalized.origin)) return true;
  return host !== undefined && normalized.host === host;
}
