import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { BucketReader } from "./buckets";
import { iso, readCluster, type ClusterSnapshot, type ProcessView } from "./cluster-view";
import { roomsJson } from "./commands";
import type { ControlClient, DrainStatus } from "./control";
import { CONSOLE_PAGE } from "./console-page";
import { PLAYGROUND_PAGE } from "./playground-page";
import { Playground, PlaygroundError, PLAYGROUND_TYPES } from "./playground";
import type { NatsConnection } from "@nats-io/transport-node";

export interface ConsoleOptions {
  /** Admin port (0: any free port). */
  port: number;
  /** @default "127.0.0.1" */
  host?: string;
  /** Operator token: every API call carries it (`Authorization: Bearer …`). */
  token: string;
  /** Heartbeat TTL of the cluster: a process whose last beat is older is down. @default 3000 */
  ttlMs?: number;
  /** How often the cluster is read. @default 1000 */
  pollMs?: number;
}

export interface ConsoleDeps {
  reader: BucketReader;
  control: ControlClient;
  log: (line: string) => void;
  /** The room playground's NATS connection (the admin user); without it, no playground. */
  play?: { nc: NatsConnection; prefix?: string | undefined };
}

/** One line of the console's feed. */
export interface ClusterEvent {
  seq: number;
  at: string;
  kind:
    | "process-up"
    | "process-down"
    | "process-left"
    | "rooms-rehomed"
    | "room-moved"
    | "drain-started"
    | "drain-finished"
    | "undrained"
    | "action";
  text: string;
  node?: string;
  ms?: number;
}

interface Orphans {
  node: string;
  rooms: Set<string>;
  lastBeat: number;
  /** When the console saw the node down. */
  at: number;
  to: Map<string, number>;
  /** Latest lease time among the re-homed rooms. */
  lastTaken: number;
}

interface Tracked {
  view: ProcessView;
  status: "up" | "down" | "left";
  since: number;
  drain?: DrainStatus;
}

const EVENTS_KEPT = 300;
const GONE_SHOWN_MS = 120_000;

/**
 * The live cluster console: polls the buckets (and, with the admin user,
 * each node's control subject), keeps the last view and a feed of cluster
 * events, and serves one page plus a small JSON API on an admin port, behind
 * an operator token (docs/console.md).
 */
export class ClusterConsole {
  readonly #processes = new Map<string, Tracked>();
  readonly #events: ClusterEvent[] = [];
  /** Rooms of dead nodes waiting for a new owner, per dead node key. */
  readonly #orphans = new Map<string, Orphans>();
  #owners = new Map<string, string>();
  #snapshot: ClusterSnapshot | undefined;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #server: Server | undefined;
  #first = true;
  readonly #ttlMs: number;
  #playground: Playground | undefined;

  constructor(
    private readonly deps: ConsoleDeps,
    private readonly options: ConsoleOptions,
  ) {
    this.#ttlMs = options.ttlMs ?? 3000;
  }

  async start(): Promise<number> {
    await this.poll();
    this.#timer = setInterval(() => {
      this.#polling ??= this.poll()
        .catch((error) => this.deps.log(`console: poll failed: ${(error as Error).message}`))
        .finally(() => (this.#polling = undefined));
    }, this.options.pollMs ?? 1000);
    this.#server = createServer((req, res) => void this.#serve(req, res));
    return new Promise((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(this.options.port, this.options.host ?? "127.0.0.1", () => {
        const address = this.#server!.address();
        resolve(typeof address === "object" && address ? address.port : this.options.port);
      });
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
    await this.#playground?.close();
    const server = this.#server;
    this.#server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  get events(): readonly ClusterEvent[] {
    return this.#events;
  }

  /** One read of the cluster; updates process states and the feed. */
  async poll(): Promise<void> {
    const snapshot = await readCluster(this.deps.reader);
    const now = Date.now();
    const seen = new Set<string>();
    for (const view of snapshot.processes) {
      const key = `${view.role}.${view.id}`;
      seen.add(key);
      const known = this.#processes.get(key);
      const stale = now - view.lastBeat > this.#ttlMs + 500;
      if (!known || known.view.epoch !== view.epoch) {
        if (stale) continue; // a key left by a process that died before we looked
        if (known && known.status === "up") this.#markDown(key, known, "restarted", now);
        this.#processes.set(key, { view, status: "up", since: now });
        if (!this.#first) this.#event("process-up", `${view.role} ${view.id} up`, view.id);
        continue;
      }
      known.view = view;
      if (stale && known.status === "up") this.#markDown(key, known, "no heartbeat", now);
    }
    for (const [key, known] of this.#processes) {
      if (seen.has(key)) continue;
      if (known.status === "up") {
        // Gone well within a TTL of its last beat: it deleted its key (a clean
        // stop). A dead process's key goes only once a TTL has passed.
        const fresh = now - known.view.lastBeat < this.#ttlMs * 0.9;
        if (fresh) {
          known.status = "left";
          known.since = now;
          this.#event(
            "process-left",
            `${known.view.role} ${known.view.id} left (clean stop)`,
            known.view.id,
          );
        } else this.#markDown(key, known, "no heartbeat", now);
      }
      if (known.status !== "up" && now - known.since > GONE_SHOWN_MS) this.#processes.delete(key);
    }
    await this.#pollDrains(snapshot);
    this.#trackRooms(snapshot, now);
    this.#snapshot = snapshot;
    this.#first = false;
  }

  #markDown(key: string, known: Tracked, why: string, now: number): void {
    known.status = "down";
    known.since = now;
    const silent = ((now - known.view.lastBeat) / 1000).toFixed(1);
    this.#event(
      "process-down",
      `${known.view.role} ${known.view.id} down (${why}; last heartbeat ${silent} s ago)`,
      known.view.id,
    );
    if (known.view.role !== "node") return;
    const rooms = new Set(
      (this.#snapshot?.rooms ?? [])
        .filter((r) => r.owner === known.view.id && r.ownerEpoch === known.view.epoch)
        .map((r) => r.room),
    );
    if (rooms.size > 0) {
      this.#orphans.set(key, {
        node: known.view.id,
        rooms,
        lastBeat: known.view.lastBeat,
        at: now,
        to: new Map(),
        lastTaken: 0,
      });
    }
  }

  #trackRooms(snapshot: ClusterSnapshot, now: number): void {
    const owners = new Map(snapshot.rooms.map((r) => [r.room, r.owner]));
    const since = new Map(snapshot.rooms.map((r) => [r.room, r.since]));
    for (const [key, orphans] of this.#orphans) {
      for (const room of [...orphans.rooms]) {
        const owner = owners.get(room);
        if (owner !== undefined && owner === orphans.node) continue;
        orphans.rooms.delete(room);
        if (owner) orphans.to.set(owner, (orphans.to.get(owner) ?? 0) + 1);
        orphans.lastTaken = Math.max(orphans.lastTaken, since.get(room) ?? now);
      }
      if (orphans.rooms.size > 0 && now - orphans.at < 120_000) continue;
      this.#orphans.delete(key);
      const moved = [...orphans.to.values()].reduce((a, b) => a + b, 0);
      // From the dead node's last heartbeat to the last of its leases taken over.
      const ms = (orphans.lastTaken || now) - orphans.lastBeat;
      const to = [...orphans.to].map(([n, c]) => `${n} (${c})`).join(", ");
      const left = orphans.rooms.size > 0 ? `; ${orphans.rooms.size} not re-homed` : "";
      this.#event(
        "rooms-rehomed",
        `${moved} room(s) of ${orphans.node} re-homed${to ? ` to ${to}` : ""} ${(ms / 1000).toFixed(1)} s after its last heartbeat${left}`,
        orphans.node,
        ms,
      );
    }
    // Owner changes between live nodes: moves and drains (one line per room).
    if (!this.#first) {
      for (const [room, owner] of owners) {
        const before = this.#owners.get(room);
        if (!before || before === owner) continue;
        const down = [...this.#orphans.values()].some((o) => o.node === before);
        const gone = [...this.#processes.values()].some(
          (p) => p.view.id === before && p.status !== "up",
        );
        if (!down && !gone)
          this.#event("room-moved", `room ${room} moved ${before} → ${owner}`, owner);
      }
    }
    this.#owners = owners;
  }

  async #pollDrains(snapshot: ClusterSnapshot): Promise<void> {
    const nodes = snapshot.processes.filter((p) => p.role === "node");
    await Promise.all(
      nodes.map(async (p) => {
        const tracked = this.#processes.get(`node.${p.id}`);
        if (!tracked || tracked.status !== "up") return;
        let status: DrainStatus;
        try {
          status = await this.deps.control.request<DrainStatus>(p.id, { op: "status" }, 1500);
        } catch {
          return; // not the admin user, or the node is busy: keep what we knew
        }
        const before = tracked.drain;
        tracked.drain = status;
        const drain = status.drain;
        if (drain && drain.startedAt !== before?.drain?.startedAt && !this.#first) {
          this.#event(
            "drain-started",
            `drain of ${p.id} started: ${drain.total} room(s) to hand over`,
            p.id,
          );
        }
        if (drain?.finishedAt && drain.finishedAt !== before?.drain?.finishedAt && !this.#first) {
          const ms = Date.parse(drain.finishedAt) - Date.parse(drain.startedAt);
          this.#event(
            "drain-finished",
            `drain of ${p.id} finished: ${drain.moved} room(s) handed over, ${drain.failed} failed, in ${(ms / 1000).toFixed(1)} s`,
            p.id,
            ms,
          );
        }
        if (before?.draining && !status.draining)
          this.#event("undrained", `${p.id} takes placements again`, p.id);
      }),
    );
  }

  #event(kind: ClusterEvent["kind"], text: string, node?: string, ms?: number): void {
    const event: ClusterEvent = {
      seq: ++this.#seq,
      at: new Date().toISOString(),
      kind,
      text,
      ...(node ? { node } : {}),
      ...(ms !== undefined ? { ms } : {}),
    };
    this.#events.push(event);
    if (this.#events.length > EVENTS_KEPT) this.#events.shift();
    this.deps.log(`${event.at} ${text}`);
  }

  /** The console's view as JSON (times ISO 8601). */
  state(): Record<string, unknown> {
    const snapshot = this.#snapshot;
    const rooms = snapshot?.rooms ?? [];
    const processes = [...this.#processes.values()]
      .map((t) => ({
        id: t.view.id,
        role: t.view.role,
        region: t.view.region,
        status: t.status === "up" && t.drain?.draining ? "draining" : t.status,
        load: t.view.load,
        epoch: t.view.epoch,
        url: t.view.url,
        started: iso(t.view.started),
        lastBeat: iso(t.view.lastBeat),
        rooms: t.view.role === "node" ? rooms.filter((r) => r.owner === t.view.id).length : null,
        drain: t.drain?.drain ?? null,
      }))
      .sort((a, b) => `${a.role}.${a.id}`.localeCompare(`${b.role}.${b.id}`));
    return {
      at: iso(snapshot?.at ?? Date.now()),
      processes,
      rooms: roomsJson(rooms),
      duties: snapshot?.duties ?? [],
      events: this.#events,
    };
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://console");
    const send = (status: number, body: unknown) => {
      res
        .writeHead(status, { "content-type": "application/json", "cache-control": "no-store" })
        .end(JSON.stringify(body));
    };
    try {
      const page =
        url.pathname === "/" || url.pathname === "/index.html"
          ? CONSOLE_PAGE
          : url.pathname === "/playground"
            ? PLAYGROUND_PAGE
            : undefined;
      if (req.method === "GET" && page) {
        res
          .writeHead(200, {
            "content-type": "text/html; charset=utf-8",
            "cache-control": "no-store",
            "content-security-policy":
              "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
            "x-frame-options": "DENY",
          })
          .end(page);
        return;
      }
      if (url.pathname === "/favicon.ico") return void res.writeHead(204).end();
      if (url.pathname === "/healthz") return send(200, { ok: true });
      if (!url.pathname.startsWith("/api/")) return send(404, { error: "not found" });
      if (!this.#authorized(req)) return send(401, { error: "operator token required" });
      if (req.method === "GET" && url.pathname === "/api/state") return send(200, this.state());
      if (url.pathname.startsWith("/api/play/")) return send(200, await this.#play(req, url));
      if (req.method !== "POST") return send(405, { error: "method not allowed" });
      const body = (await readJson(req)) as { node?: unknown; room?: unknown; to?: unknown };
      const node = typeof body.node === "string" ? body.node : "";
      if (url.pathname === "/api/drain" || url.pathname === "/api/undrain") {
        if (!node) return send(400, { error: "node required" });
        const op = url.pathname === "/api/drain" ? "drain" : "undrain";
        const reply = await this.deps.control.request(node, { op });
        this.#event("action", `console: ${op} ${node} requested`, node);
        return send(200, reply);
      }
      if (url.pathname === "/api/move") {
        const room = typeof body.room === "string" ? body.room : "";
        const to = typeof body.to === "string" && body.to ? body.to : undefined;
        const owner = this.#snapshot?.rooms.find((r) => r.room === room)?.owner;
        if (!owner) return send(404, { error: `room ${room} is not active` });
        const reply = await this.deps.control.request(owner, {
          op: "move",
          room,
          ...(to ? { to } : {}),
        });
        this.#event(
          "action",
          `console: move ${room} from ${owner}${to ? ` to ${to}` : ""} requested`,
          owner,
        );
        return send(200, reply);
      }
      return send(404, { error: "not found" });
    } catch (error) {
      if (error instanceof PlaygroundError) return send(error.status, { error: error.message });
      if (error instanceof SyntaxError)
        return send(400, { error: `invalid JSON: ${error.message}` });
      send(502, { error: (error as Error).message });
    }
  }

  /** The playground's API (`/api/play/…`, docs/console.md). */
  async #play(req: IncomingMessage, url: URL): Promise<unknown> {
    const play = this.deps.play;
    if (!play) throw new PlaygroundError(404, "this console has no playground");
    this.#playground ??= new Playground(play.nc, play.prefix);
    const playground = this.#playground;
    const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
    if (req.method === "GET" && url.pathname === "/api/play/types")
      return { types: [...PLAYGROUND_TYPES] };
    if (req.method === "GET" && url.pathname === "/api/play/events")
      return playground.events(
        url.searchParams.get("session") ?? "",
        Number(url.searchParams.get("after") ?? 0) || 0,
      );
    if (req.method !== "POST") throw new PlaygroundError(405, "method not allowed");
    const body = (await readJson(req)) as Record<string, unknown>;
    switch (url.pathname) {
      case "/api/play/join":
        return playground.join(str(body.type), str(body.room), str(body.user));
      case "/api/play/input":
        if (!("body" in body)) throw new PlaygroundError(400, "input body required");
        return playground.input(str(body.session), str(body.type), body.body);
      case "/api/play/leave":
        return playground.leave(str(body.session));
      default:
        throw new PlaygroundError(404, "not found");
    }
  }

  #authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
    const expected = Buffer.from(this.options.token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) throw new Error("body too large");
  }
  return text ? (JSON.parse(text) as unknown) : {};
}

/** Starts the console; prints its URL. */
export async function startConsole(
  deps: ConsoleDeps,
  options: ConsoleOptions,
): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const console = new ClusterConsole(deps, options);
  const port = await console.start();
  const host = options.host ?? "127.0.0.1";
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}/`;
  deps.log(JSON.stringify({ event: "console", url, port }));
  return { port, url, close: () => console.close() };
}
