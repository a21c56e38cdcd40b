import type { Logger } from "pino";
import { parseRoom as parseRoomRef, type Names } from "@rookery/protocol";
import type { ActorHost } from "./actor-host";
import type { RoomActor } from "./room-actor";
import { answer, type Inbound, type Served, type Transport } from "./transport";

/**
 * Operator control of one node, served on `<prefix>.ctl.<nodeId>`
 * (request/reply, JSON bodies; only the admin NATS user and nodes may publish
 * there, docs/security.md). Used by `rookery drain|undrain|move` and the
 * cluster console.
 *
 * | request | what the node does | reply |
 * |---|---|---|
 * | `{"op":"status"}` | nothing | {@link ControlStatus} |
 * | `{"op":"drain"}` | stops taking placements, then hands every room to the other nodes, one by one, without exiting | the status, `drain.total` set |
 * | `{"op":"undrain"}` | takes placements again | the status |
 * | `{"op":"move","room":"<type>/<id>","to"?:"<node>"}` | passivates the room (snapshot, release) and asks `to` (or the least loaded other node) to activate it | {@link MoveResult} |
 * | `{"op":"activate","room":"<type>/<id>"}` | activates the room here (sent by a node handing a room over) | `{ok, node, room, roomEpoch}` |
 *
 * Every reply has `ok`; a failure is `{"ok":false,"error":"…"}`.
 */
export type ControlRequest =
  | { op: "status" | "drain" | "undrain" }
  | { op: "move"; room: string; to?: string }
  | { op: "activate"; room: string };

export type ControlStatus = {
  ok: true;
  node: string;
  draining: boolean;
  rooms: number;
  capacity: number;
  /** The last drain of this process: rooms to hand over, handed over, failed. */
  drain?: DrainProgress;
};

export type DrainProgress = {
  startedAt: string;
  finishedAt?: string;
  total: number;
  moved: number;
  failed: number;
  /** The last few rooms handed over and where they went. */
  recent: MoveResult[];
};

export type MoveResult = {
  ok: boolean;
  room: string;
  from: string;
  /** The node now owning the room (absent: released, placed again by the next request). */
  to?: string;
  ms: number;
  error?: string;
};

type Reply = Record<string, unknown> & { ok: boolean };

/** Hand-overs in flight at once during a drain. */
const DRAIN_CONCURRENCY = 8;
const ACTIVATE_TIMEOUT_MS = 10_000;
const RECENT = 20;

export class HostControl {
  readonly #sub: Served;
  #drain: DrainProgress | undefined;
  #draining: Promise<void> | undefined;
  /** Rooms this drain sent to each node: heartbeat loads lag, so spread by what we sent. */
  readonly #sent = new Map<string, number>();

  constructor(
    private readonly host: ActorHost,
    private readonly transport: Transport,
    private readonly names: Names,
    private readonly log: Logger,
  ) {
    this.#sub = transport.subscribe(
      names.subjects.control(this.id),
      (msg) => void this.#onRequest(msg),
    );
  }

  get id(): string {
    return this.host.cluster.id;
  }

  stop(): void {
    this.#sub.unsubscribe();
  }

  async #onRequest(msg: Inbound): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.handle(JSON.parse(new TextDecoder().decode(msg.data)) as ControlRequest);
    } catch (error) {
      reply = { ok: false, error: (error as Error).message };
    }
    answer(msg, new TextEncoder().encode(JSON.stringify(reply)));
  }

  async handle(request: ControlRequest): Promise<Reply> {
    switch (request?.op) {
      case "status":
        return this.status();
      case "drain":
        return this.#startDrain();
      case "undrain":
        this.host.resume();
        this.log.info("undrained: taking placements again");
        return this.status();
      case "move":
        return this.#moveOne(request.room, request.to);
      case "activate":
        return this.#activateHere(request.room);
      default:
        return {
          ok: false,
          error: `unknown op ${JSON.stringify((request as { op?: unknown })?.op)}`,
        };
    }
  }

  status(): ControlStatus {
    return {
      ok: true,
      node: this.id,
      draining: this.host.draining,
      rooms: this.host.size,
      capacity: this.host.options.capacity,
      ...(this.#drain ? { drain: this.#drain } : {}),
    };
  }

  async #startDrain(): Promise<Reply> {
    if (this.host.draining && this.#draining) return this.status();
    if (this.#others().length === 0) {
      return { ok: false, error: "no other live node to take the rooms: not draining" };
    }
    await this.host.pause();
    this.#sent.clear();
    const actors = this.host.actors();
    this.#drain = {
      startedAt: new Date().toISOString(),
      total: actors.length,
      moved: 0,
      failed: 0,
      recent: [],
    };
    this.log.info({ rooms: actors.length }, "drain started");
    this.host.drainEvent("started", actors.length);
    this.#draining = this.#drainAll(actors, this.#drain).finally(() => {
      this.#draining = undefined;
    });
    return this.status();
  }

  async #drainAll(actors: RoomActor[], progress: DrainProgress): Promise<void> {
    const queue = [...actors];
    const worker = async () => {
      for (let actor = queue.shift(); actor; actor = queue.shift()) {
        if (!this.host.draining) return; // undrained meanwhile: the rest stay
        const result = await this.#handOver(actor, undefined, "drain");
        if (result.ok) progress.moved++;
        else progress.failed++;
        progress.recent = [...progress.recent, result].slice(-RECENT);
      }
    };
    await Promise.all(Array.from({ length: DRAIN_CONCURRENCY }, worker));
    progress.finishedAt = new Date().toISOString();
    this.log.info({ moved: progress.moved, failed: progress.failed }, "drain finished");
    this.host.drainEvent("finished", progress.moved);
  }

  async #moveOne(room: string, to: string | undefined): Promise<Reply> {
    const [type, id] = parseRoom(room);
    const actor = this.host.actor(type, id);
    if (!actor) return { ok: false, error: `room ${room} is not active on ${this.id}` };
    if (to === this.id) return { ok: false, error: `room ${room} is already on ${to}` };
    const result = await this.#handOver(actor, to, "move");
    return { ...result };
  }

  /** Passivates the room, then asks the target (or the least loaded other node) to activate it. */
  async #handOver(
    actor: RoomActor,
    to: string | undefined,
    reason: "drain" | "move",
  ): Promise<MoveResult> {
    const started = performance.now();
    const room = `${actor.room.type}/${actor.room.id}`;
    const done = (fields: Partial<MoveResult>): MoveResult => ({
      ok: true,
      room,
      from: this.id,
      ms: Math.round(performance.now() - started),
      ...fields,
    });
    const targets = to ? [to] : this.#others();
    if (to && !this.host.cluster.list("node").some((p) => p.id === to)) {
      return done({ ok: false, error: `node ${to} is not live` });
    }
    try {
      await this.host.handOver(actor, reason);
    } catch (error) {
      return done({ ok: false, error: `passivation failed: ${(error as Error).message}` });
    }
    const errors: string[] = [];
    for (const target of targets) {
      const answer = await this.#ask(target, { op: "activate", room });
      if (answer.ok) {
        this.#sent.set(target, (this.#sent.get(target) ?? 0) + 1);
        return done({ to: String(answer.node) });
      }
      errors.push(`${target}: ${String(answer.error)}`);
    }
    // Released: the next request for it places it again (wherever placements are taken).
    return done({ ok: !to, error: `no node activated it (${errors.join("; ") || "none live"})` });
  }

  async #activateHere(room: string): Promise<Reply> {
    const [type, id] = parseRoom(room);
    if (!this.host.hosts(type)) return { ok: false, error: `${this.id} hosts no ${type} rooms` };
    if (this.host.draining) return { ok: false, error: `${this.id} is draining` };
    const actor = await this.host.activate(type, id);
    if (!actor) return { ok: false, error: `${this.id} could not activate ${room}` };
    return { ok: true, node: this.id, room, roomEpoch: actor.lease.roomEpoch };
  }

  async #ask(node: string, request: ControlRequest): Promise<Reply> {
    try {
      const data = await this.transport.request(
        this.names.subjects.control(node),
        new TextEncoder().encode(JSON.stringify(request)),
        ACTIVATE_TIMEOUT_MS,
      );
      return JSON.parse(new TextDecoder().decode(data)) as Reply;
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  /** Other live nodes, least loaded first (a draining node publishes its capacity as load). */
  #others(): string[] {
    return this.host.cluster
      .list("node")
      .filter((p) => p.id !== this.id)
      .map((p) => ({ id: p.id, load: p.load + (this.#sent.get(p.id) ?? 0) }))
      .sort((a, b) => a.load - b.load)
      .map((p) => p.id);
  }
}

function parseRoom(room: unknown): [string, string] {
  const ref = typeof room === "string" ? parseRoomRef(room) : undefined;
  if (!ref) throw new Error(`room must be <type>/<id>, got ${JSON.stringify(room)}`);
  return [ref.type, ref.id];
}
