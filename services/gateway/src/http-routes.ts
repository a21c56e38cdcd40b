import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpPath, type RoomRef } from "@rookery/protocol";
import { parseDiscoverQuery, pickGateway, type GatewayRecord } from "./discovery";

/** What the HTTP routes read from the gateway. */
export interface HttpSource {
  ready(): boolean;
  liveGateways(): GatewayRecord[];
  /** The live process owning a room, from its lease (a hint; undefined when none). */
  roomOwner(room: RoomRef): Promise<string | undefined>;
  metricsText(): Promise<{ contentType: string; body: string }>;
  /** Whether the public port serves `/metrics` (not when an admin port does). */
  publicMetrics(): boolean;
  /** Demo only: a signed token for a user; undefined when the demo is off. */
  demoToken(user: string, name: string): Promise<string> | undefined;
  /** Demo only: a static asset by name; undefined when absent or the demo is off. */
  demoAsset(name: string): Promise<{ type: string; body: string | Buffer } | undefined>;
}

/** Plain `node:http` routing: five fixed paths do not need a framework. */
export async function handleHttp(
  source: HttpSource,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://gateway");
  if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: "GET only" });
  switch (url.pathname) {
    case HttpPath.Discover: {
      const { region, exclude, room } = parseDiscoverQuery(url.searchParams);
      const owner = room && (await source.roomOwner(room));
      const best = pickGateway(source.liveGateways(), region, exclude, owner);
      return best ? json(res, 200, best) : json(res, 503, { error: "no gateway available" });
    }
    case "/healthz":
      return json(res, 200, { status: "ok" });
    case "/readyz":
      return source.ready()
        ? json(res, 200, { status: "ready" })
        : json(res, 503, { status: "not ready" });
    case "/metrics": {
      if (!source.publicMetrics()) return json(res, 404, { error: "not found" });
      const { contentType, body } = await source.metricsText();
      res.writeHead(200, { "content-type": contentType }).end(body);
      return;
    }
    case "/demo/token": {
      const user = url.searchParams.get("user") ?? "";
      const token = source.demoToken(user, url.searchParams.get("name") ?? user);
      if (!token) return json(res, 404, { error: "not found" });
      return json(res, 200, { token: await token.catch(() => "") });
    }
  }
  const asset = await source.demoAsset(url.pathname === "/" ? "index.html" : url.pathname.slice(1));
  if (!asset) return json(res, 404, { error: "not found" });
  res.writeHead(200, { "content-type": asset.type }).end(asset.body);
}

/** The admin port (`ROOKERY_ADMIN_PORT`): `/metrics`, `/healthz`, `/readyz` only. */
export async function handleAdminHttp(
  source: HttpSource,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://gateway").pathname;
  if (req.method !== "GET" && req.method !== "HEAD") return json(res, 405, { error: "GET only" });
  if (path === "/healthz") return json(res, 200, { status: "ok" });
  if (path === "/readyz") {
    return source.ready()
      ? json(res, 200, { status: "ready" })
      : json(res, 503, { status: "not ready" });
  }
  if (path !== "/metrics") return json(res, 404, { error: "not found" });
  const { contentType, body } = await source.metricsText();
  res.writeHead(200, { "content-type": contentType }).end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
