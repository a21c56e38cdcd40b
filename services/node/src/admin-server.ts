import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the admin port serves. */
export interface AdminSource {
  /** In the cluster with a live heartbeat, and not draining. */
  ready(): boolean;
  /** Prometheus text; undefined while the process is still starting. */
  metrics(): Promise<{ contentType: string; body: string }> | undefined;
}

/**
 * The admin port of a process (`ROOKERY_METRICS_PORT`): `/metrics`
 * (Prometheus), `/healthz` (200 while the process answers: liveness) and
 * `/readyz` (200 once it is in the cluster with a live heartbeat, 503 while
 * it starts, retries NATS, has lost its heartbeat or drains: readiness). It
 * listens before the process connects to NATS, so a process waiting for its
 * servers is alive but not ready.
 */
export class AdminServer {
  #server: Server | undefined;

  constructor(private readonly source: AdminSource) {}

  /** Listens on `port` (0 picks a free one); resolves with the bound port. */
  listen(port: number, host = "0.0.0.0"): Promise<number> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://admin").pathname;
      if (req.method !== "GET" && req.method !== "HEAD")
        return json(res, 405, { error: "GET only" });
      if (path === "/healthz") return json(res, 200, { status: "ok" });
      if (path === "/readyz") {
        return this.source.ready()
          ? json(res, 200, { status: "ready" })
          : json(res, 503, { status: "not ready" });
      }
      if (path !== "/metrics") return json(res, 404, { error: "not found" });
      const metrics = this.source.metrics();
      if (!metrics) return json(res, 503, { error: "starting" });
      metrics.then(
        ({ contentType, body }) => res.writeHead(200, { "content-type": contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
    .end(JSON.stringify(body));
}
