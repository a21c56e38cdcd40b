import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { NatsConnection } from "@nats-io/transport-node";
import { pino, type Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import { ClusterMember, connectNats, RoomRouter } from "@rookery/cluster";
import { loggedConnectRetry } from "@rookery/cluster/internal";
import {
  CloseCode,
  formatRoom,
  HttpPath,
  ErrorCode,
  LeaveReason,
  names,
  type Names,
  type RoomRef,
} from "@rookery/protocol";
import {
  InternalKind,
  type RoomEvent,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import { originAllowed, TokenVerifier } from "./auth";
import { Connection } from "./connection";
import type { ConnectionContext, RoomRequestOptions } from "./context";
import { DemoAssets } from "./demo-assets";
import type { GatewayRecord } from "./discovery";
import { handleAdminHttp, handleHttp } from "./http-routes";
import { LogOnce } from "./limiter";
import type { LocalRooms } from "./local-rooms";
import type { Membership } from "./membership";
import { GatewayMetrics } from "./metrics";
import { resolveGatewayOptions, type GatewayOptions, type ResolvedGatewayOptions } from "./options";
import { RoomChannel } from "./room-channel";
import { WriteBatch } from "./write-batch";

/** Longest wait for a room's lease when discovery is asked for its process. */
const ROOM_OWNER_READ_MS = 250;
/** How long discovery reuses a room's owner lookup (a room moves rarely; a stale hint costs one NATS hop). */
const ROOM_OWNER_CACHE_MS = 1000;
const ROOM_OWNER_CACHE_LIMIT = 10_000;

/**
 * The WebSocket edge: authenticates clients, forwards their frames to room
 * actors over NATS, fans room events out to local sockets (one subscription
 * per room), serves discovery, health and metrics. It holds no room state:
 * killing it loses nothing but sockets, and the rooms drop its members once
 * its heartbeat expires.
 */
export class Gateway implements ConnectionContext {
  readonly options: ResolvedGatewayOptions;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly logOnce: LogOnce;
  readonly verifier: TokenVerifier;
  readonly writes = new WriteBatch();
  readonly #connections = new Set<Connection>();
  readonly #sessions = new Map<string, Connection>();
  readonly #channels = new Map<string, RoomChannel>();
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  readonly #leaving = new Set<Promise<void>>();
  #nc: NatsConnection | undefined;
  #member: ClusterMember | undefined;
  #router: RoomRouter | undefined;
  #local: LocalRooms | undefined;
  /** Discovery's recent room-owner lookups, shared by concurrent requests. */
  readonly #owners = new Map<string, { owner: Promise<string | undefined>; at: number }>();
  #http: Server | undefined;
  #admin: Server | undefined;
  #wss: WebSocketServer | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #draining = false;
  #ready = false;
  #stopping: Promise<void> | undefined;
  #allClosed: (() => void) | undefined;
  readonly #demo = new DemoAssets();
  readonly #names: Names;
  url = "";
  port = 0;
  /** The admin port (`adminPort`), once listening; 0 when there is none. */
  adminPort = 0;

  constructor(options: GatewayOptions) {
    this.options = resolveGatewayOptions(options);
    this.#names = names(this.options.prefix);
    this.log = (this.options.logger ?? pino()).child({
      node: this.options.id,
      component: "gateway",
    });
    this.metrics = new GatewayMetrics({
      connections: () => this.#connections.size,
      rooms: () => this.#channels.size,
    });
    this.logOnce = new LogOnce(this.options.logDedupeMs);
    this.verifier = new TokenVerifier(this.options);
  }

  get id(): string {
    return this.options.id;
  }
  get epoch(): string {
    return this.#member?.heartbeat.epoch ?? "";
  }
  get draining(): boolean {
    return this.#draining;
  }
  get connectionCount(): number {
    return this.#connections.size;
  }
  get roomCount(): number {
    return this.#channels.size;
  }
  /** In the cluster with a live heartbeat and not draining (`/readyz`). */
  get ready(): boolean {
    return this.#httpSource.ready();
  }

  async start(): Promise<void> {
    const { options } = this;
    await this.#listen();
    this.#nc = await connectNats(
      options.natsAuth,
      {
        servers: options.natsUrl,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        name: `${options.id}-gateway`,
        // Async stack traces build an Error per request; a gateway sends thousands a second.
        noAsyncTraces: true,
      },
      loggedConnectRetry(this.log),
    );
    const local = this.#local;
    this.#router = new RoomRouter(this.#nc, {
      prefix: options.prefix,
      requestTimeoutMs: options.requestTimeoutMs,
      totalWaitMs: options.totalWaitMs,
      // Room-affine placement: a room active nowhere starts where its first joiner is.
      placeLocally: local && ((type, id) => local.place({ type, id })),
    });
    this.#member = new ClusterMember(this.#nc, {
      identity: { id: options.id, role: "gateway", region: options.region, url: this.url },
      cluster: {
        prefix: options.prefix,
        replicas: options.replicas,
        heartbeatTtlMs: options.heartbeatTtlMs,
        heartbeatTags: options.heartbeatTags,
      },
      load: () => this.#connections.size,
      sweeper: false,
      logger: this.log,
    });
    await this.#member.start();
    this.#member.heartbeat.on("failstop", this.#onFailStop);
    this.#sweep = setInterval(() => this.#checkConnections(), 1000);
    this.#ready = true;
    this.log.info({ url: this.url, region: options.region }, "gateway ready");
  }

  /** Drains: clients are told to move, get `drainMs` to do so, then are closed (4011). Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  // ---- ConnectionContext ----

  /**
   * A room active in this process gets the request in-process (no NATS, no
   * encoding); one moving away answers ROOM_MOVED, and the request then
   * goes over NATS to wherever the room is now, like any other.
   */
  async request(
    room: RoomRef,
    frame: RoomRequest,
    options?: RoomRequestOptions,
  ): Promise<RoomReply> {
    const actor = this.#local?.serving(room);
    if (actor) {
      const reply = await actor.request(frame);
      if (reply.k !== InternalKind.Err || reply.code !== ErrorCode.ROOM_MOVED) {
        this.metrics.roomRequest(true);
        return reply;
      }
    }
    this.metrics.roomRequest(false);
    const { deadline, signal } = options ?? {};
    return this.#router!.request(room.type, room.id, frame, { deadline, signal: signal?.() });
  }

  /**
   * The node role of this process (the co-located shape): requests to its
   * active rooms stay in-process, and a room active nowhere is placed here
   * first. Call before `start()`.
   */
  attachRooms(local: LocalRooms): void {
    this.#local = local;
  }

  /** A room event from an actor of this process, for this gateway's members of the room. */
  deliverLocal(room: RoomRef, event: RoomEvent): void {
    this.#channels.get(formatRoom(room))?.deliver(event);
  }

  sharedRoom(key: string, room: RoomRef): RoomRef {
    return this.#channels.get(key)?.room ?? room;
  }

  subscribe(membership: Membership): void {
    const key = formatRoom(membership.room);
    let channel = this.#channels.get(key);
    if (!channel) {
      const room = membership.room;
      const subject = this.#names.subjects.roomEvents(room.type, room.id);
      channel = new RoomChannel(this.#nc!, subject, room, {
        badEvent: (bad, reason) =>
          this.#logOnce(
            `bad-event:${reason}`,
            { room: formatRoom(bad), reason },
            "undecodable room event dropped",
          ),
        fanout: (ms) => this.metrics.fanoutSeconds.observe(ms / 1000),
        servedHere: () => this.#local?.serving(room) !== undefined,
      });
      channel.start();
      this.#channels.set(key, channel);
    }
    channel.add(membership);
  }

  channelView(membership: Membership, epoch: number, seq: number): void {
    this.#channels.get(formatRoom(membership.room))?.noteView(epoch, seq);
  }

  unsubscribe(membership: Membership): void {
    const key = formatRoom(membership.room);
    const channel = this.#channels.get(key);
    if (channel?.remove(membership)) {
      channel.stop();
      this.#channels.delete(key);
    }
  }

  claimSession(session: string, connection: Connection): void {
    const previous = this.#sessions.get(session);
    this.#sessions.set(session, connection);
    if (previous && previous !== connection) previous.replaced();
  }

  releaseSession(session: string, connection: object): void {
    if (this.#sessions.get(session) === connection) this.#sessions.delete(session);
  }

  disconnected(room: RoomRef, member: string, conn: string): void {
    if (this.#stopping) return; // the gateway's own heartbeat going away removes them
    const key = `${formatRoom(room)} ${member} ${conn}`;
    clearTimeout(this.#graceTimers.get(key));
    const timer = setTimeout(() => {
      this.#graceTimers.delete(key);
      this.#leave(room, member, conn);
    }, this.options.reconnectGraceMs);
    this.#graceTimers.set(key, timer);
  }

  // ---- internals ----

  /**
   * The gateway could not renew its heartbeat (broker or network loss): the
   * rooms drop its members once its key expires, so its sockets no longer
   * stand for members. They are closed (4000) and the clients reconnect and
   * resume, here once the heartbeat is back under a new epoch, or elsewhere.
   */
  readonly #onFailStop = (reason: string): void => {
    this.log.warn(
      { reason, connections: this.#connections.size },
      "heartbeat lost: closing sockets",
    );
    for (const connection of this.#connections)
      connection.close(CloseCode.INTERNAL, "gateway lost the cluster");
  };

  #leave(room: RoomRef, member: string, conn: string): void {
    const request: RoomRequest = {
      k: InternalKind.Leave,
      member,
      conn,
      reason: LeaveReason.Disconnected,
    };
    const done = this.request(room, request).then(
      () => undefined,
      (error: unknown) =>
        this.log.warn({ room: formatRoom(room), member, err: error }, "disconnect leave failed"),
    );
    this.#leaving.add(done);
    void done.finally(() => this.#leaving.delete(done));
  }

  async #listen(): Promise<void> {
    const { options } = this;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: 2 * options.limits.maxFrameBytes,
      perMessageDeflate: false,
      // The gateway keeps its connections itself: ws's own set would add an entry and a close listener per socket.
      clientTracking: false,
    });
    this.#http = createServer((req, res) => {
      handleHttp(this.#httpSource, req, res).catch((error: unknown) => {
        this.log.error({ err: error, url: req.url }, "http handler failed");
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    this.#http.on("upgrade", (req, socket, head) => this.#upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      this.#http!.once("error", reject);
      this.#http!.listen(options.port, options.host, () => resolve());
    });
    this.port = (this.#http.address() as AddressInfo).port;
    if (options.adminPort !== undefined) {
      const admin = createServer((req, res) => {
        handleAdminHttp(this.#httpSource, req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500).end();
        });
      });
      this.#admin = admin;
      await new Promise<void>((resolve, reject) => {
        admin.once("error", reject);
        admin.listen(options.adminPort, options.host, () => resolve());
      });
      this.adminPort = (admin.address() as AddressInfo).port;
    }
    const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
    this.url = options.publicUrl ?? `ws://${host}:${this.port}${HttpPath.WebSocket}`;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? "/", "http://gateway").pathname;
    if (path !== HttpPath.WebSocket || !this.#httpSource.ready()) {
      socket.end(`HTTP/1.1 ${path === HttpPath.WebSocket ? 503 : 404} Unavailable\r\n\r\n`);
      return;
    }
    // A browser from an origin not allowed: refused before the handshake (docs/protocol.md §2).
    if (!originAllowed(req.headers.origin, req.headers.host, this.options.allowedOrigins)) {
      this.#logOnce("origin", { origin: req.headers.origin }, "websocket origin refused");
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    this.#wss!.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, socket));
  }

  #accept(ws: WebSocket, socket: Duplex): void {
    const connection = new Connection(ws, socket, this);
    this.#connections.add(connection);
  }

  connectionClosed(connection: Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#allClosed?.();
  }

  readonly socketError = (error: Error): void =>
    this.#logOnce(`ws:${error.message}`, { err: error.message }, "socket error");

  #checkConnections(): void {
    const now = performance.now();
    for (const connection of this.#connections) connection.check(now);
  }

  #logOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.logOnce.shouldLog(key)) this.log.warn(fields, message);
  }

  readonly #httpSource = {
    ready: () =>
      this.#ready &&
      !this.#draining &&
      !this.#nc?.isClosed() &&
      this.#member?.heartbeat.isAlive() === true,
    liveGateways: (): GatewayRecord[] => this.#member?.view.list("gateway") ?? [],
    roomOwner: (room: RoomRef) => this.#roomOwner(room),
    publicMetrics: () => this.options.adminPort === undefined,
    metricsText: async () => ({
      contentType: this.metrics.registry.contentType,
      body: await this.metrics.registry.metrics(),
    }),
    demoToken: (user: string, name: string) =>
      this.options.demo && user
        ? this.verifier.sign({ sub: user.slice(0, 64), name: name.slice(0, 64) })
        : undefined,
    demoAsset: async (name: string) => (this.options.demo ? this.#demo.get(name) : undefined),
  };

  /**
   * The lease read behind `/discover?room=` is only a hint: bounded, so that a
   * stalled leases stream (a JetStream election takes seconds on 2.9) never
   * holds up reconnecting clients past their rooms' reconnect grace. A room
   * served in this process needs no read; the joiners of one room arriving
   * together share one read, and its answer for {@link ROOM_OWNER_CACHE_MS}
   * (under load, one read per joiner timed out and sent them elsewhere).
   */
  #roomOwner(room: RoomRef): Promise<string | undefined> {
    const member = this.#member;
    if (!member) return Promise.resolve(undefined);
    if (this.#local?.serving(room)) return Promise.resolve(member.heartbeat.id);
    const key = formatRoom(room);
    const cached = this.#owners.get(key);
    if (cached && performance.now() - cached.at < ROOM_OWNER_CACHE_MS) return cached.owner;
    if (this.#owners.size >= ROOM_OWNER_CACHE_LIMIT) this.#owners.clear();
    const entry = { owner: Promise.resolve<string | undefined>(undefined), at: performance.now() };
    // No owner (not active yet, or the read was late) is not kept: the first
    // joiner is about to place the room, and the next must find it.
    entry.owner = this.#readRoomOwner(member, room).then((found) => {
      if (found === undefined && this.#owners.get(key) === entry) this.#owners.delete(key);
      return found;
    });
    this.#owners.set(key, entry);
    return entry.owner;
  }

  async #readRoomOwner(member: ClusterMember, room: RoomRef): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ROOM_OWNER_READ_MS);
    });
    try {
      return await Promise.race([
        member.leases.owner(room.type, room.id).catch(() => undefined),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #stop(): Promise<void> {
    this.#draining = true;
    this.log.info({ connections: this.#connections.size }, "draining");
    const spread = Math.min(1000, Math.floor(this.options.drainMs / 2));
    for (const connection of this.#connections)
      connection.drain(Math.floor(Math.random() * spread));
    await this.#waitForClients(this.options.drainMs);
    for (const connection of this.#connections) connection.close(CloseCode.DRAINING, "draining");
    clearInterval(this.#sweep);
    this.#member?.heartbeat.off("failstop", this.#onFailStop);
    for (const timer of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
    await Promise.allSettled([...this.#leaving]);
    for (const channel of this.#channels.values()) channel.stop();
    this.#channels.clear();
    await this.#member?.stop();
    this.#router?.close();
    await this.#nc?.drain().catch(() => undefined);
    for (const connection of this.#connections) connection.terminate();
    this.#wss?.close();
    this.#http?.closeAllConnections();
    this.#admin?.closeAllConnections();
    this.#admin?.close();
    await new Promise<void>((resolve) =>
      this.#http ? this.#http.close(() => resolve()) : resolve(),
    );
    this.#ready = false;
  }

  async #waitForClients(ms: number): Promise<void> {
    if (this.#connections.size === 0 || ms <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#allClosed = undefined;
  }
}
