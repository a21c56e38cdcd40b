/**
 * Issue 15, acceptance: token secret rotation by JWT `kid`, and the
 * WebSocket Origin allow-list (docs/protocol.md §2 and §3).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { ClientKind, CloseCode, ErrorCode, ServerKind } from "@rookery/protocol";
import { gatewayOptionsFromEnv, TokenVerifier, type Gateway } from "@rookery/gateway";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";
import { newSession, RawClient, startGateway } from "../../services/gateway/test/harness";

const OLD = "old-secret-0123456789-0123456789-abcdef";
const NEW = "new-secret-0123456789-0123456789-abcdef";
const oldIssuer = new TokenVerifier({ secrets: { k1: OLD } });
const newIssuer = new TokenVerifier({ secrets: { k2: NEW } });

let server: NatsServer;
const gateways: Gateway[] = [];

beforeAll(async () => {
  server = await startNatsServer();
}, 30_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await server?.[Symbol.asyncDispose]();
});

async function gateway(prefix: string, options: Parameters<typeof startGateway>[2]) {
  const g = await startGateway(server.url, testNamespace(prefix), { drainMs: 0, ...options });
  gateways.push(g);
  return g;
}

/** hello with `token`: the welcome, or the error frame and close code. */
async function hello(url: string, token: string) {
  const client = await RawClient.open(url);
  client.send({ k: ClientKind.Hello, v: 1, token, session: newSession() });
  const reply = await client.next((f) => f.k === ServerKind.Welcome || f.k === ServerKind.Error);
  return { client, reply };
}

describe("security - token secret rotation by kid", () => {
  test("during rotation tokens of the old and the new kid are both accepted", async () => {
    const g = await gateway("rotation both", { secret: undefined, secrets: { k1: OLD, k2: NEW } });
    for (const issuer of [oldIssuer, newIssuer]) {
      const { client, reply } = await hello(g.url, await issuer.sign({ sub: "alice" }));
      expect(reply.k).toBe(ServerKind.Welcome);
      client.close();
    }
  });

  test("after the old kid is removed, an old token is refused with AUTH_FAILED", async () => {
    const g = await gateway("rotation done", { secret: undefined, secrets: { k2: NEW } });
    const { client, reply } = await hello(g.url, await oldIssuer.sign({ sub: "alice" }));
    expect(reply).toMatchObject({ k: ServerKind.Error, code: ErrorCode.AUTH_FAILED });
    expect(await client.closed()).toBe(CloseCode.AUTH_FAILED);
    const fresh = await hello(g.url, await newIssuer.sign({ sub: "alice" }));
    expect(fresh.reply.k).toBe(ServerKind.Welcome);
    fresh.client.close();
  });

  test("a token signed with a kid's name but another key, or without kid, is refused", async () => {
    const g = await gateway("rotation forged", { secret: undefined, secrets: { k2: NEW } });
    const forged = new TokenVerifier({ secrets: { k2: OLD } });
    const noKid = new TokenVerifier(NEW);
    for (const issuer of [forged, noKid]) {
      const { client, reply } = await hello(g.url, await issuer.sign({ sub: "alice" }));
      expect(reply).toMatchObject({ k: ServerKind.Error, code: ErrorCode.AUTH_FAILED });
      client.close();
    }
  });

  test("a connected client is closed at its token's expiry", async () => {
    const g = await gateway("rotation expiry", { secret: undefined, secrets: { k2: NEW } });
    const { client, reply } = await hello(g.url, await newIssuer.sign({ sub: "alice" }, 2));
    expect(reply.k).toBe(ServerKind.Welcome);
    expect(await client.closed(6000)).toBe(CloseCode.TOKEN_EXPIRED);
  });

  test("ROOKERY_TOKEN_SECRETS parses kid:secret pairs next to ROOKERY_TOKEN_SECRET", () => {
    const options = gatewayOptionsFromEnv({
      ROOKERY_TOKEN_SECRET: OLD,
      ROOKERY_TOKEN_SECRETS: `k1:${OLD}, k2:${NEW}`,
    });
    expect(options.secrets).toEqual({ k1: OLD, k2: NEW });
    expect(() => gatewayOptionsFromEnv({ ROOKERY_TOKEN_SECRETS: "no-colon" })).toThrow(
      /ROOKERY_TOKEN_SECRETS/,
    );
  });
});

describe("security - WebSocket Origin allow-list", () => {
  /** Resolves with the HTTP status of a refused upgrade, or 101 once open. */
  function upgrade(url: string, origin: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, origin ? { origin } : {});
      ws.once("open", () => {
        ws.close();
        resolve(101);
      });
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.once("error", (error) => reject(error));
    });
  }

  test("a foreign Origin is refused with 403 before the handshake; an allowed one is served", async () => {
    const g = await gateway("origin list", { allowedOrigins: ["https://game.example"] });
    expect(await upgrade(g.url, "https://evil.example")).toBe(403);
    expect(await upgrade(g.url, "https://game.example.evil.example")).toBe(403);
    expect(await upgrade(g.url, "https://game.example")).toBe(101);
    // Not a browser (no Origin header), and the gateway's own origin: served.
    expect(await upgrade(g.url, undefined)).toBe(101);
    expect(await upgrade(g.url, `http://127.0.0.1:${g.port}`)).toBe(101);
    const served = await RawClient.connect(g.url, "bob");
    expect(served.member).toMatch(/^bob:/);
    served.close();
  });

  test("open by default outside production; ROOKERY_ALLOWED_ORIGINS is validated", async () => {
    const g = await gateway("origin open", {});
    expect(await upgrade(g.url, "https://anywhere.example")).toBe(101);
    expect(
      gatewayOptionsFromEnv({ ROOKERY_ALLOWED_ORIGINS: "https://a.example, http://b.example:8080" })
        .allowedOrigins,
    ).toEqual(["https://a.example", "http://b.example:8080"]);
    expect(() => gatewayOptionsFromEnv({ ROOKERY_ALLOWED_ORIGINS: "a.example/path" })).toThrow(
      /ROOKERY_ALLOWED_ORIGINS/,
    );
  });
});
