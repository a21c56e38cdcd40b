import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { WebSocket } from "ws";
import { serviceEntry, spawnChild, until, type ChildHandle } from "@rookery/testkit";
import {
  ClientKind,
  decodeServerFrame,
  encodeFrame,
  ServerKind,
  type ClientFrame,
  type MemberView,
  type ServerFrame,
} from "@rookery/protocol";
import { Gateway, TokenVerifier, type GatewayOptions } from "../src/index";

export const SECRET = "test-secret-rookery-0123456789-abcdef";
const verifier = new TokenVerifier(SECRET);

export function token(
  sub: string,
  extra: { name?: string; rooms?: string[] } = {},
  ttlSeconds = 3600,
) {
  return verifier.sign({ sub, name: extra.name ?? sub, rooms: extra.rooms }, ttlSeconds);
}

export const newSession = () => randomBytes(12).toString("base64url");

/** An in-process gateway (a real one: real sockets, real NATS). */
export async function startGateway(
  natsUrl: string,
  prefix: string,
  options: GatewayOptions = {},
): Promise<Gateway> {
  const gateway = new Gateway({
    natsUrl: [natsUrl],
    prefix,
    secret: SECRET,
    host: "127.0.0.1",
    port: 0,
    logger: pino({ level: "silent" }),
    ...options,
  });
  await gateway.start();
  return gateway;
}

/** A gateway in a child process, for kill -9 and SIGTERM tests. */
export async function startGatewayProcess(
  natsUrl: string,
  prefix: string,
  id: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildHandle; url: string; port: number }> {
  const child = await spawnChild({
    script: serviceEntry("gateway"),
    env: {
      NATS_URL: natsUrl,
      ROOKERY_ID: id,
      ROOKERY_PREFIX: prefix,
      ROOKERY_TOKEN_SECRET: SECRET,
      ROOKERY_GATEWAY_HOST: "127.0.0.1",
      ROOKERY_GATEWAY_PORT: "0",
      ROOKERY_LOG_LEVEL: "warn",
      ...env,
    },
  });
  const ready = JSON.parse(await child.waitForLine(/"event":"ready"/, 20_000)) as {
    url: string;
    port: number;
  };
  return { child, url: ready.url, port: ready.port };
}

/**
 * A bare protocol client for tests: every frame it receives is kept, and
 * tests wait for the ones they expect. It keeps the member list of each room
 * the way docs/protocol.md tells a client to.
 */
export class RawClient {
  readonly frames: ServerFrame[] = [];
  readonly members = new Map<string, Map<string, MemberView>>();
  readonly leaders = new Map<string, string | null>();
  closeCode: number | undefined;
  member = "";
  #ref = 0;
  readonly #waiters = new Set<{
    test: (f: ServerFrame) => boolean;
    resolve: (f: ServerFrame) => void;
  }>();
  #seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.#onFrame(data as Buffer));
    ws.on("close", (code) => (this.closeCode = code));
  }

  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    ws.binaryType = "nodebuffer";
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawClient(ws);
  }

  /** Opens, says hello and waits for welcome. */
  static async connect(url: string, user: string, session = newSession()): Promise<RawClient> {
    const client = await RawClient.open(url);
    client.send({ k: ClientKind.Hello, v: 1, token: await token(user), session });
    const welcome = await client.next(ServerKind.Welcome);
    client.member = welcome.member;
    return client;
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  /** Sends a join and waits for its `joined` (or throws the error frame's code). */
  async join(type: string, id: string, resume: { since?: number; epoch?: number } = {}) {
    const ref = ++this.#ref;
    this.send({ k: ClientKind.Join, ref, room: { type, id }, ...resume });
    const reply = await this.next(
      (f) => (f.k === "joined" || f.k === "error") && f.ref === ref,
      15_000,
    );
    if (reply.k === ServerKind.Error)
      throw Object.assign(new Error(reply.message), { code: reply.code });
    return reply as Extract<ServerFrame, { k: "joined" }>;
  }

  /** Sends an input with the next seq; resolves with its ack or error frame. */
  async input(type: string, id: string, inputType: string, body: unknown, seq = ++this.#seq) {
    this.send({
      k: ClientKind.Input,
      room: { type, id },
      seq,
      type: inputType,
      body: body as never,
    });
    return this.next((f) => (f.k === "ack" || f.k === "error") && f.seq === seq, 15_000);
  }

  /** The first frame (seen or to come) matching a kind or predicate. */
  next<K extends ServerFrame["k"]>(
    match: K | ((f: ServerFrame) => boolean),
    timeoutMs = 5000,
  ): Promise<Extract<ServerFrame, { k: K }>> {
    const test = typeof match === "string" ? (f: ServerFrame) => f.k === match : match;
    const seen = this.frames.find(test);
    if (seen) return Promise.resolve(seen as never);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (f: ServerFrame) => {
          clearTimeout(timer);
          resolve(f as never);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no frame ${String(match)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  events(type?: string): Extract<ServerFrame, { k: "event" }>[] {
    return this.frames.filter(
      (f): f is Extract<ServerFrame, { k: "event" }> =>
        f.k === ServerKind.Event && (type === undefined || f.type === type),
    );
  }

  memberIds(room: string): string[] {
    return [...(this.members.get(room)?.keys() ?? [])].sort();
  }

  close(): void {
    this.ws.close(1000);
  }

  async closed(timeoutMs = 5000): Promise<number> {
    return until(() => this.closeCode, timeoutMs, "socket closed");
  }

  #onFrame(data: Buffer): void {
    const decoded = decodeServerFrame(data);
    if (!decoded.ok) throw decoded.error;
    const frame = decoded.frame;
    this.frames.push(frame);
    for (const waiter of this.#waiters) {
      if (!waiter.test(frame)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(frame);
    }
    if (frame.k === ServerKind.Joined) {
      const key = `${frame.room.type}/${frame.room.id}`;
      this.members.set(key, new Map(frame.members.map((m) => [m.id, m])));
      this.leaders.set(key, frame.leader);
    }
    if (frame.k === ServerKind.Event) this.#track(frame);
  }

  #track(frame: Extract<ServerFrame, { k: "event" }>): void {
    const key = `${frame.room.type}/${frame.room.id}`;
    const members = this.members.get(key) ?? new Map<string, MemberView>();
    this.members.set(key, members);
    const body = frame.body as Record<string, unknown>;
    if (frame.type === "$join") members.set(body.id as string, body as unknown as MemberView);
    if (frame.type === "$leave") members.delete(body.id as string);
    if (frame.type === "$leader") this.leaders.set(key, (body.id as string | null) ?? null);
  }
}
