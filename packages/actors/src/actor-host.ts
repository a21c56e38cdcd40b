import type { Logger } from "pino";
import { NatsHostCluster } from "@rookery/actors/nats";
import { encodeFrame, ErrorCode, names, type Value } from "@rookery/protocol";
import { decodePlaceRequest, InternalKind, type PlaceReply } from "@rookery/protocol/internal";
import { ClusterMember, type Lease, type ProcessRecord } from "@rookery/cluster";
import { leaseKey } from "@rookery/cluster/internal";
import { prefetch } from "./activation";
import type { ActorDeps } from "./actor-deps";
import { HandlerBatch, type BatchJob } from "./handler-batch";
import type { HostCluster } from "./host-cluster";
import { HostControl } from "./host-control";
import { resolveRuntimeOptions, type ResolvedRuntimeOptions, type RuntimeOptions } from "./options";
import { isDurable, type RoomDefinition } from "./room";
import { RoomActor, type LocalGateway } from "./room-actor";
import { err } from "./replies";
import { HandlerTimeoutError } from "./sandbox";
import { answer, type Inbound, type Served } from "./transport";

type AnyRoom = RoomDefinition<unknown, Record<string, Value>>;
const OWNER_CACHE_LIMIT = 100_000;
const OWNER_CACHE_MS = 250;

export interface HostEvents {
  activated: (actor: RoomActor, ms: number) => void;
  stopped: (actor: RoomActor, reason: string) => void;
  journaled: (ms: number, entries: number) => void;
  /** One mailbox turn of one room ran its handlers for `ms` (cut short: `interrupted`). */
  handled: (ms: number, interrupted: boolean) => void;
  /** A placement request answered: `placed` here, `owner` elsewhere, `declined`, `full`, `bad`. */
  placement: (outcome: "placed" | "owner" | "declined" | "full" | "bad") => void;
  /** The rooms of a dead node re-activated here: how many, and how long it took. */
  rehomed: (dead: ProcessRecord, rooms: number, ms: number) => void;
  /** An operator drain (host-control.ts) started or finished: rooms handed over so far. */
  drain: (phase: "started" | "finished", rooms: number) => void;
}

type Listeners = { [E in keyof HostEvents]?: HostEvents[E][] };

/** How long a drain waits for one room's handover before stopping it at once. */
const DRAIN_ROOM_LIMIT_MS = 10_000;

/**
 * Hosts room actors on one node: answers placement requests for its room
 * types (a NATS queue group, so one node takes each), activates rooms by
 * winning their lease, re-homes the rooms of dead nodes at once, drops the
 * members of dead gateways, passivates idle rooms, and on fail-stop stops
 * every actor before anyone can take them over.
 */
export class ActorHost {
  readonly options: ResolvedRuntimeOptions;
  readonly #rooms = new Map<string, AnyRoom>();
  readonly #actors = new Map<string, RoomActor>();
  readonly #activating = new Map<string, Promise<RoomActor | undefined>>();
  /** Rooms we lost the lease race for, and to whom: cleared once that owner is down. */
  readonly #owners = new Map<
    string,
    { id: string; epoch: string; roomEpoch: number; at: number }
  >();
  readonly #subs: Served[] = [];
  readonly #work = new Set<Promise<unknown>>();
  #deps!: ActorDeps<RoomActor>;
  #local: LocalGateway | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #accepting = false;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  readonly #listeners: Listeners = {};
  /** An operator drain: no placements taken, the process keeps running (host-control.ts). */
  #paused = false;
  #control: HostControl | undefined;
  #unlisten: (() => void)[] = [];
  /** This process's membership: leases, liveness, storage and messaging (host-cluster.ts). */
  readonly cluster: HostCluster;
  private readonly log: Logger;

  /**
   * `cluster`: a started `ClusterMember` (NATS), or any other
   * {@link HostCluster} (the in-memory one of unit tests).
   */
  constructor(
    cluster: ClusterMember | HostCluster,
    rooms: RoomDefinition<never, never>[],
    options: RuntimeOptions = {},
    log?: Logger,
  ) {
    this.cluster = cluster instanceof ClusterMember ? new NatsHostCluster(cluster) : cluster;
    this.log = log ?? this.cluster.log;
    this.options = resolveRuntimeOptions(options);
    for (const room of rooms as unknown as AnyRoom[]) this.#rooms.set(room.type, room);
  }

  get size(): number {
    return this.#actors.size;
  }
  /** Requests waiting for their journal append, over all rooms. */
  get mailboxDepth(): number {
    let depth = 0;
    for (const actor of this.#actors.values()) depth += actor.pendingCount;
    return depth;
  }
  actor(type: string, id: string): RoomActor | undefined {
    return this.#actors.get(leaseKey(type, id));
  }
  /** The room's actor if it is active here and taking requests (the local fast path). */
  serving(type: string, id: string): RoomActor | undefined {
    const actor = this.#actors.get(leaseKey(type, id));
    return actor?.serving ? actor : undefined;
  }
  /** Whether this node hosts the room type. */
  hosts(type: string): boolean {
    return this.#rooms.has(type);
  }
  /**
   * The gateway role of this process (the co-located shape): its members get
   * room events in-process. Call before `start()`.
   */
  attachGateway(local: LocalGateway): void {
    this.#local = local;
  }
  /** Adds a listener (several may listen to one event). */
  on<E extends keyof HostEvents>(event: E, listener: HostEvents[E]): void {
    ((this.#listeners[event] ??= []) as HostEvents[E][]).push(listener);
  }
  #emit<E extends keyof HostEvents>(event: E, ...args: Parameters<HostEvents[E]>): void {
    const listeners = this.#listeners[event] as ((...a: Parameters<HostEvents[E]>) => void)[];
    if (listeners) for (const listener of listeners) listener(...args);
  }
  /** Whether an operator drained this node (it takes no placement until undrained). */
  get draining(): boolean {
    return this.#paused;
  }
  /** Every room active here. */
  actors(): RoomActor[] {
    return [...this.#actors.values()];
  }
  /**
   * Operator drain (host-control.ts): takes no placement from now on; rooms
   * stay until handed over one by one with {@link handOver}.
   */
  async pause(): Promise<void> {
    if (this.#paused) return;
    this.#paused = true;
    await Promise.allSettled(this.#subs.splice(0).map((sub) => sub.drain()));
  }
  /** Takes placements again after {@link pause}. */
  resume(): void {
    if (!this.#paused || !this.#accepting) return;
    this.#paused = false;
    this.#subscribePlacements();
  }
  /** Passivates one room (snapshot, release) so another node can activate it. */
  async handOver(actor: RoomActor, reason: "drain" | "move"): Promise<void> {
    await actor.passivate((lease) => this.cluster.release(lease), reason);
  }
  /** For host-control.ts: reports drain progress to listeners. */
  drainEvent(phase: "started" | "finished", rooms: number): void {
    this.#emit("drain", phase, rooms);
  }

  async start(): Promise<void> {
    if (this.#accepting) return;
    this.#deps = await this.#actorDeps();
    this.#subscribePlacements();
    this.#control = new HostControl(this, this.#deps.transport, this.#deps.names, this.log);
    this.#unlisten = [
      this.cluster.onDown((p) => this.#processDown(p)),
      this.cluster.onFailStop(() => this.#stopAll("fail-stop")),
    ];
    if (this.options.idleMs > 0) {
      this.#idleTimer = setInterval(
        () => this.#passivateIdle(),
        Math.max(50, this.options.idleMs / 4),
      );
    }
    await this.#deps.transport.flush();
    this.#accepting = true;
  }

  #subscribePlacements(): void {
    const all = this.#deps.names;
    for (const type of this.#rooms.keys()) {
      const onPlace = (msg: Inbound) => this.#track(this.#onPlace(msg));
      this.#subs.push(
        this.#deps.transport.subscribe(all.subjects.place(type), onPlace, all.queues.place),
      );
    }
  }

  /** Activates a room here unless another live node owns it. */
  activate(type: string, id: string): Promise<RoomActor | undefined> {
    const key = leaseKey(type, id);
    const existing = this.#actors.get(key);
    if (existing) return Promise.resolve(existing);
    let pending = this.#activating.get(key);
    if (!pending) {
      pending = this.#limit(() => this.#activate(type, id)).finally(() =>
        this.#activating.delete(key),
      );
      this.#activating.set(key, pending);
    }
    return pending;
  }

  /**
   * Runs at most `activationConcurrency` activations at once: re-homing
   * hundreds of rooms in one burst would otherwise flood the connection and
   * the server, and every room would wait for the slowest.
   */
  #limit<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        this.#running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#queue.shift()?.();
          });
      };
      if (this.#running < this.options.activationConcurrency) run();
      else this.#queue.push(run);
    });
  }

  /** SIGTERM: take no placements, hand every room over cleanly (snapshot + release). */
  async drain(): Promise<void> {
    this.#accepting = false;
    // Drained, not dropped: placements already on their way are declined at
    // once (ROOM_UNAVAILABLE, retried elsewhere) instead of timing out.
    await Promise.allSettled(this.#subs.splice(0).map((sub) => sub.drain()));
    const release = (lease: Lease) => this.cluster.release(lease);
    await Promise.allSettled([...this.#actors.values()].map((a) => this.#handOver(a, release)));
  }

  /**
   * A drain never waits on one room for ever (seen once: a handover still
   * pending after 30 s, holding the process's exit): past the limit the room
   * stops at once. Its journal holds every acknowledged input; its lease is
   * freed when this process's heartbeat goes.
   */
  async #handOver(actor: RoomActor, release: (lease: Lease) => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), DRAIN_ROOM_LIMIT_MS);
    });
    try {
      const outcome = await Promise.race([actor.passivate(release, "drain"), late]);
      if (outcome !== "late") return;
      this.log.warn({ room: actor.key, limitMs: DRAIN_ROOM_LIMIT_MS }, "room handover timed out");
      actor.stop("drain: handover timed out");
    } finally {
      clearTimeout(timer);
    }
  }

  /** Idempotent: drains, then stops listening. */
  async stop(): Promise<void> {
    await this.drain();
    clearInterval(this.#idleTimer);
    this.#control?.stop();
    for (const unlisten of this.#unlisten.splice(0)) unlisten();
    await Promise.allSettled(this.#work);
  }

  async #activate(type: string, id: string): Promise<RoomActor | undefined> {
    const definition = this.#rooms.get(type);
    if (
      !definition ||
      !this.#accepting ||
      this.#paused ||
      this.#actors.size >= this.options.capacity
    )
      return undefined;
    const started = performance.now();
    // Reads beside the CAS: one round trip less per activation (a re-homing
    // node activates hundreds at once). Wasted when the race is lost.
    const prefetched = prefetch(this.#deps, { type, id }, isDurable(definition));
    prefetched.catch(() => undefined);
    const result = await this.cluster.acquire(type, id);
    if (!result.acquired) {
      if (this.#owners.size >= OWNER_CACHE_LIMIT) this.#owners.clear();
      const owner = {
        id: result.owner,
        epoch: result.ownerEpoch,
        roomEpoch: result.roomEpoch,
        at: performance.now(),
      };
      this.#owners.set(leaseKey(type, id), owner);
      return undefined;
    }
    this.#owners.delete(leaseKey(type, id));
    for (let attempt = 1; ; attempt++) {
      const actor = this.#newActor(definition, type, id, result.lease);
      try {
        const timing = await actor.activate(attempt === 1 ? prefetched : undefined);
        const ms = performance.now() - started;
        this.log.debug(
          { room: actor.key, ms: Math.round(ms), ...timing, takenOver: result.lease.takenOver },
          "room activated",
        );
        this.#emit("activated", actor, ms);
        return actor;
      } catch (error) {
        actor.stop("activation failed");
        // A journal tail read from a lagging replica fails the fenced append
        // (or misses a linked message): read again.
        const code = (error as { code?: string }).code;
        if ((code === "OWNERSHIP_LOST" || code === "JOURNAL_GAP") && attempt < 3) continue;
        this.log.error({ err: error, room: actor.key }, "activation failed");
        await this.cluster.release(result.lease).catch(() => undefined);
        return undefined;
      }
    }
  }

  #newActor(definition: AnyRoom, type: string, id: string, lease: Lease): RoomActor {
    const actor = new RoomActor(definition, { type, id }, lease, this.#deps);
    this.#actors.set(actor.key, actor);
    return actor;
  }

  /** One dependency object shared by every actor: per-room closures cost memory (budget: 4 KB a room). */
  async #actorDeps(): Promise<ActorDeps<RoomActor>> {
    return {
      storage: await this.cluster.openStorage(this.options.journalPurge),
      transport: this.cluster.openTransport(),
      names: names(this.cluster.prefix),
      nodeId: this.cluster.id,
      alive: () => this.cluster.isAlive(),
      gatewayLive: (gw, epoch) => this.cluster.isLive(gw, epoch, "gateway"),
      options: this.options,
      batch: this.#timedBatch(
        new HandlerBatch(this.options.handlerBudgetMs, (error) =>
          this.log.error({ err: String(error) }, "room continuation failed"),
        ),
      ),
      log: this.log,
      local: this.#local,
      onStopped: (a, reason) => this.#stopped(a, reason),
      onJournal: (ms, entries) => this.#emit("journaled", ms, entries),
    };
  }

  /** Times each job's handlers (metrics) when someone listens to `handled`. */
  #timedBatch(batch: HandlerBatch): HandlerBatch {
    const submit = batch.submit.bind(batch);
    batch.submit = (job: BatchJob) => {
      if (!this.#listeners.handled) return submit(job);
      const run = job.run.bind(job);
      job.run = () => {
        const started = performance.now();
        let interrupted = false;
        try {
          run();
        } catch (error) {
          interrupted = error instanceof HandlerTimeoutError;
          throw error;
        } finally {
          this.#emit("handled", performance.now() - started, interrupted);
        }
      };
      submit(job);
    };
    return batch;
  }

  async #onPlace(msg: Inbound): Promise<void> {
    const decoded = decodePlaceRequest(msg.data);
    if (!decoded.ok) {
      this.#emit("placement", "bad");
      return reply(msg, err(ErrorCode.BAD_FRAME, decoded.error.message));
    }
    const { room, fresh } = decoded.frame;
    const { type, id } = room;
    const key = leaseKey(type, id);
    // Asked again, shortly after, for a room a live node owns: answer from memory,
    // no KV read. Short-lived, because that owner may release it (drain, idle).
    const known = this.#owners.get(key);
    const recent = known && !fresh && performance.now() - known.at < OWNER_CACHE_MS;
    if (known && recent && this.cluster.isLive(known.id, known.epoch)) {
      this.#emit("placement", "owner");
      return reply(msg, placed(known.id, known.roomEpoch));
    }
    if (!this.#actors.has(key) && this.#lighterNodeExists()) {
      this.#emit("placement", "declined");
      return reply(msg, err(ErrorCode.ROOM_UNAVAILABLE, "placement left to a less loaded node"));
    }
    const actor = await this.activate(type, id);
    if (actor) {
      this.#emit("placement", "placed");
      return reply(msg, placed(this.cluster.id, actor.lease.roomEpoch));
    }
    // Someone else owns it (the lost lease race recorded whom), or we are full:
    // either way the requester just retries the room.
    const owner = this.#owners.get(key);
    this.#emit("placement", owner ? "owner" : "full");
    if (owner) return reply(msg, placed(owner.id, owner.roomEpoch));
    reply(msg, err(ErrorCode.ROOM_UNAVAILABLE, "no capacity to activate the room"));
  }

  /**
   * Placement prefers the least-loaded live node: the queue group hands the
   * request to a random member, which declines (the sender retries, and the
   * queue group picks again) while another live node reports clearly fewer
   * rooms. Loads come from heartbeats, so they are at most TTL/3 old; the
   * load a node publishes must be its room count (NodeService does this).
   */
  #lighterNodeExists(): boolean {
    const me = this.cluster.id;
    const nodes = this.cluster.list("node");
    // Compare published loads only (ours included): equally stale, so two
    // nodes never both find the other lighter and decline the same room.
    const mine = nodes.find((p) => p.id === me)?.load;
    const others = nodes.filter((p) => p.id !== me).map((p) => p.load);
    if (mine === undefined || others.length === 0) return false;
    const lightest = Math.min(...others);
    return mine > lightest + Math.max(this.options.placementSlack, lightest / 10);
  }

  #processDown(process: ProcessRecord): void {
    this.log.info({ process: process.id, role: process.role }, "process down");
    if (process.role === "gateway") {
      for (const actor of this.#actors.values()) actor.dropGateway(process.id, process.epoch);
      return;
    }
    for (const [room, owner] of this.#owners)
      if (owner.epoch === process.epoch) this.#owners.delete(room);
    if (process.id !== this.cluster.id) this.#track(this.#rehome(process));
  }

  /** Re-activates a dead node's rooms here; the lease CAS makes every room land exactly once. */
  async #rehome(dead: ProcessRecord): Promise<void> {
    const started = performance.now();
    const orphans = await this.cluster.leasesOf(dead, (type) => this.#rooms.has(type));
    const results = await Promise.allSettled(
      orphans.map(({ type, id }) => this.activate(type, id)),
    );
    const activated = results.filter((r) => r.status === "fulfilled" && r.value).length;
    const ms = Math.round(performance.now() - started);
    this.log.info(
      { dead: dead.id, orphans: orphans.length, activated, ms },
      "re-homed rooms of a dead node",
    );
    if (activated > 0) this.#emit("rehomed", dead, activated, ms);
  }

  #passivateIdle(): void {
    const release = (lease: Lease) => this.cluster.release(lease);
    for (const actor of this.#actors.values()) {
      if (!actor.busy && actor.idleMs >= this.options.idleMs)
        this.#track(actor.passivate(release, "idle"));
    }
  }

  #stopAll(reason: string): void {
    for (const actor of [...this.#actors.values()]) actor.stop(reason);
  }

  #stopped(actor: RoomActor, reason: string): void {
    if (this.#actors.get(actor.key) === actor) this.#actors.delete(actor.key);
    if (reason !== "drain" && reason !== "idle" && reason !== "move") this.#lost(actor, reason);
    this.#emit("stopped", actor, reason);
  }

  /**
   * A room stopped on its own (a fence lost, a journal failure) while this
   * node lives: its lease is freed by CAS at the revision held, so the next
   * frame can activate it anywhere, this node included. (Left naming a live
   * node, no other node would take it over.) If another node took it, the
   * CAS fails and the lease is theirs.
   */
  #lost(actor: RoomActor, reason: string): void {
    if (!this.cluster.isAlive()) return this.cluster.markLost(actor.lease, reason);
    this.#track(this.cluster.release(actor.lease));
  }

  #track(work: Promise<unknown>): void {
    const tracked = work
      .catch((error) => this.log.error({ err: String(error) }, "host work failed"))
      .finally(() => this.#work.delete(tracked));
    this.#work.add(tracked);
  }
}

function reply(msg: Inbound, frame: PlaceReply): void {
  answer(msg, encodeFrame(frame));
}

/** A lease read from a tombstone may carry epoch 0; the frame requires a positive one. */
function placed(node: string, roomEpoch: number): PlaceReply {
  return { k: InternalKind.Placed, node, epoch: Math.max(1, roomEpoch) };
}
