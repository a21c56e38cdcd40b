import { randomBytes } from "node:crypto";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { decodeServerFrame, names, type Value } from "@rookery/protocol";
import { decodeRoomEvent, InternalKind, type MemberInfo } from "@rookery/protocol/internal";

/** The room types of the examples, offered by the page (any other type can be typed in). */
export const PLAYGROUND_TYPES = ["party", "chess", "tic-tac-toe"] as const;

/** One event as a made-up player saw it. */
export interface PlayEvent {
  /** Position in this player's stream (1, 2, …). */
  n: number;
  at: string;
  /** Room event seq. */
  seq: number;
  type: string;
  body: unknown;
  /** Addressed to some members only. */
  private?: boolean;
}

interface Player {
  session: string;
  type: string;
  room: string;
  member: MemberInfo;
  seq: number;
  events: PlayEvent[];
  n: number;
  sub: Subscription;
  joined: Record<string, unknown>;
  touched: number;
}

const EVENTS_KEPT = 500;
const IDLE_MS = 10 * 60_000;
const USER = /^[A-Za-z0-9_-]{1,32}$/;
const ROOM_PART = /^[A-Za-z0-9_-]{1,128}$/;

export class PlaygroundError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The console's room playground (docs/console.md): the console process plays
 * made-up users itself, as a gateway does. It registers as a gateway process
 * (`console-<random>`; rooms drop members of gateways that are not live) on
 * the first join, sends join / input / leave with a RoomRouter and keeps each
 * player's events (from the room's event subject) for the page to poll.
 */
export class Playground {
  readonly #players = new Map<string, Player>();
  readonly #names;
  readonly #router: RoomRouter;
  readonly #id = `console-${randomBytes(3).toString("hex")}`;
  #gateway: Promise<ClusterMember> | undefined;
  #sweep: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string | undefined,
  ) {
    this.#names = names(prefix);
    this.#router = new RoomRouter(nc, { prefix: this.#names.prefix, totalWaitMs: 10_000 });
    this.#sweep = setInterval(() => {
      for (const p of this.#players.values())
        if (Date.now() - p.touched > IDLE_MS) void this.leave(p.session).catch(() => undefined);
    }, 60_000);
    this.#sweep.unref();
  }

  #registered(): Promise<ClusterMember> {
    this.#gateway ??= (async () => {
      const member = new ClusterMember(this.nc, {
        identity: { id: this.#id, role: "gateway" },
        cluster: { prefix: this.#names.prefix },
        sweeper: false,
      });
      await member.start();
      return member;
    })().catch((error: unknown) => {
      this.#gateway = undefined;
      throw new PlaygroundError(
        502,
        `cannot register the playground as a gateway (the admin NATS user is needed): ${(error as Error).message}`,
      );
    });
    return this.#gateway;
  }

  /** Joins `type/room` as a new made-up player; answers the room's joined reply. */
  async join(type: string, room: string, user: string): Promise<Record<string, unknown>> {
    if (!ROOM_PART.test(type)) throw new PlaygroundError(400, "room type: letters, digits, _ or -");
    if (!ROOM_PART.test(room)) throw new PlaygroundError(400, "room id: letters, digits, _ or -");
    if (!USER.test(user)) throw new PlaygroundError(400, "user: 1-32 letters, digits, _ or -");
    const gateway = await this.#registered();
    const session = randomBytes(8).toString("hex");
    const member: MemberInfo = {
      id: `${user}:${session}`,
      user,
      name: user,
      gateway: gateway.heartbeat.id,
      gatewayEpoch: gateway.heartbeat.epoch,
      conn: `play-${session}`,
    };
    const player: Player = {
      session,
      type,
      room,
      member,
      seq: 0,
      events: [],
      n: 0,
      sub: this.nc.subscribe(this.#names.subjects.roomEvents(type, room)),
      joined: {},
      touched: Date.now(),
    };
    void this.#listen(player);
    const reply = await this.#router
      .request(type, room, { k: InternalKind.Join, member })
      .catch((error: unknown) => {
        player.sub.unsubscribe();
        throw error;
      });
    if (reply.k !== InternalKind.Joined) {
      player.sub.unsubscribe();
      const message = reply.k === InternalKind.Err ? `${reply.code}: ${reply.message}` : reply.k;
      throw new PlaygroundError(409, `join refused: ${message}`);
    }
    // The join's own events come in the reply and (subscribed first) live too:
    // once each, in room order. Nothing was polled yet, so renumbering is safe.
    for (const e of reply.events ?? []) this.#push(player, e.seq, e.type, e.body, true);
    player.events.sort((a, b) => a.seq - b.seq);
    player.events.forEach((e, i) => (e.n = i + 1));
    player.joined = {
      epoch: reply.epoch,
      seq: reply.seq,
      state: reply.state ?? null,
      members: reply.members,
      leader: reply.leader,
    };
    this.#players.set(session, player);
    return { session, member: member.id, room: `${type}/${room}`, ...player.joined };
  }

  async #listen(player: Player): Promise<void> {
    for await (const msg of player.sub) {
      const decoded = decodeRoomEvent(msg.data);
      if (!decoded.ok) continue;
      const event = decoded.frame;
      if (event.to && !event.to.includes(player.member.id)) continue;
      const frame = decodeServerFrame(event.frame);
      const body = frame.ok && frame.frame.k === "event" ? frame.frame.body : null;
      this.#push(player, event.seq, event.type, body, event.to !== undefined);
    }
  }

  #push(player: Player, seq: number, type: string, body: unknown, priv: boolean): void {
    // The join's events arrive twice (reply and subject), in either order.
    if (player.events.some((e) => e.seq === seq)) return;
    player.events.push({
      n: ++player.n,
      at: new Date().toISOString(),
      seq,
      type,
      body,
      ...(priv ? { private: true } : {}),
    });
    if (player.events.length > EVENTS_KEPT) player.events.shift();
  }

  #player(session: string): Player {
    const player = this.#players.get(session);
    if (!player) throw new PlaygroundError(404, "no such player (left, or the console restarted)");
    player.touched = Date.now();
    return player;
  }

  /** Sends an input; answers `{ok, seq, result}` or `{ok: false, code, error}`. */
  async input(session: string, type: string, body: unknown): Promise<Record<string, unknown>> {
    const player = this.#player(session);
    if (!type) throw new PlaygroundError(400, "input type required");
    const seq = ++player.seq;
    const reply = await this.#router.request(player.type, player.room, {
      k: InternalKind.Input,
      member: player.member.id,
      seq,
      type,
      body: body as Value,
    });
    if (reply.k === InternalKind.Acked) return { ok: true, seq, result: reply.result ?? null };
    if (reply.k === InternalKind.Err)
      return { ok: false, seq, code: reply.code, error: reply.message };
    return { ok: false, seq, error: `unexpected reply ${reply.k}` };
  }

  /** This player's events after `after` (its stream position). */
  events(session: string, after: number): Record<string, unknown> {
    const player = this.#player(session);
    return { events: player.events.filter((e) => e.n > after), last: player.n };
  }

  async leave(session: string): Promise<Record<string, unknown>> {
    const player = this.#players.get(session);
    if (!player) return { ok: true };
    this.#players.delete(session);
    try {
      await this.#router.request(player.type, player.room, {
        k: InternalKind.Leave,
        member: player.member.id,
        conn: player.member.conn,
      });
    } finally {
      player.sub.unsubscribe();
    }
    return { ok: true };
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    await Promise.all([...this.#players.keys()].map((s) => this.leave(s).catch(() => undefined)));
    this.#router.close();
    const gateway = await this.#gateway?.catch(() => undefined);
    await gateway?.stop();
  }
}
