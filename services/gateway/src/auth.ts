import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import {
  ErrorCode,
  isDisplayName,
  isUserId,
  ProtocolError,
  type TokenClaims,
} from "@rookery/protocol";

const MAX_TOKEN_LENGTH = 8192;

/** The HS256 verifier of client tokens (docs/protocol.md §3). */
export class TokenVerifier {
  readonly #key: Uint8Array;

  constructor(secret: string) {
    this.#key = new TextEncoder().encode(secret);
  }

  /** The token's claims, or a ProtocolError AUTH_FAILED / TOKEN_EXPIRED. */
  async verify(
    token: string,
  ): Promise<Required<Pick<TokenClaims, "sub" | "name" | "exp">> & TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) throw authFailed("token longer than 8192 characters");
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ["HS256"],
        requiredClaims: ["sub", "exp"],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new ProtocolError(ErrorCode.TOKEN_EXPIRED, "token expired", { cause: error });
      }
      throw authFailed(describe(error), error);
    }
    return checkClaims(payload);
  }

  /** Signs a token; used by the demo page and tests (applications sign their own). */
  sign(
    claims: { sub: string; name?: string; rooms?: string[] },
    ttlSeconds = 3600,
  ): Promise<string> {
    return new SignJWT({
      name: claims.name ?? "",
      ...(claims.rooms ? { rooms: claims.rooms } : {}),
    })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(this.#key);
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
  return { sub, name, exp, rooms: rooms as string[] | undefined };
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
