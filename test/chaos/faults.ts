/**
 * The nemesis: fault kinds, each of which injects its fault, holds it and
 * heals it before returning, and the seeded schedule that runs them one
 * slot at a time. Sleeps here are the faults' own timing, not test waits.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { clusterNames } from "@rookery/cluster";
import { decodeLeaseRecord } from "@rookery/cluster/internal";
import type { NatsServer } from "@rookery/testkit";
import type { FaultWindow } from "./history";
import { CHAOS_ROOM_TYPE } from "./ledger-room";
import type { Player } from "./player";
import type { Prng } from "./prng";
import type { Proc, Role, System } from "./processes";

/** Heartbeat TTL of every process (the services' default). */
const TTL_MS = 3000;
/** Time after a fault heals before the next one starts, so each window shows its own recovery. */
const RECOVERY_MS = 5000;

export interface FaultContext {
  system: System;
  players: readonly Player[];
  rng: Prng;
  /** A connection of the suite's own, for JetStream stream info. */
  monitor: NatsConnection;
  clock: () => number;
}

type Fault = (ctx: FaultContext) => Promise<string>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const FAULTS = {
  "node-kill": async (ctx) => crash(ctx, "node", 4000),
  "node-pause": async (ctx) => freeze(ctx, "node", TTL_MS + 2000),
  "gateway-kill": async (ctx) => crash(ctx, "gateway", 3000),
  "gateway-pause": async (ctx) => freeze(ctx, "gateway", 6000),
  "broker-kill": async (ctx) => {
    const server = await journalLeader(ctx);
    await server.kill();
    await sleep(6000);
    await server.restart();
    return `killed ${server.name} (journal leader), restarted after 6 s`;
  },
  "socket-drop": async (ctx) => {
    const first = dropSockets(ctx, 4);
    await sleep(2000);
    const second = dropSockets(ctx, 4);
    return `dropped ${first} then ${second} client sockets`;
  },
  "broker-kill+socket-drop": async (ctx) => {
    const server = await journalLeader(ctx);
    await server.kill();
    await sleep(1500);
    const dropped = dropSockets(ctx, 3);
    await sleep(4500);
    await server.restart();
    return `killed ${server.name} (journal leader), dropped ${dropped} sockets 1.5 s in`;
  },
  "broker-restart+node-kill": async (ctx) => {
    const server = await journalLeader(ctx);
    await server.kill();
    await sleep(3000);
    await server.restart();
    const gap = ctx.rng.int(300, 1500);
    await sleep(gap);
    const node = await crash(ctx, "node", 4000);
    return `restarted ${server.name} (journal leader), ${gap} ms later ${node}`;
  },
} satisfies Record<string, Fault>;

export type FaultKind = keyof typeof FAULTS;
export const FAULT_KINDS = Object.keys(FAULTS) as FaultKind[];

/** kill -9 of a random process of `role`, restarted under the same id after `downMs`. */
async function crash(ctx: FaultContext, role: Role, downMs: number): Promise<string> {
  const proc = await pick(ctx, role);
  await ctx.system.kill(proc);
  await sleep(downMs);
  await ctx.system.heal(proc);
  return `kill -9 ${proc.id}, restarted after ${downMs} ms`;
}

/** SIGSTOP of a random process of `role` for `ms`, then SIGCONT. */
async function freeze(ctx: FaultContext, role: Role, ms: number): Promise<string> {
  const proc = await pick(ctx, role);
  proc.child.pause();
  await sleep(ms);
  proc.child.resume();
  return `SIGSTOP ${proc.id} for ${ms} ms`;
}

/**
 * A live process of `role` that matters: a node owning rooms, a gateway
 * with clients (weighted by how many), or any if none does.
 */
async function pick(ctx: FaultContext, role: Role): Promise<Proc> {
  const live = ctx.system.list(role).filter((p) => p.alive);
  const users =
    role === "node" ? await leaseOwners(ctx) : ctx.players.map((p) => p.client.gateway).sort();
  const weighted = users.flatMap((id) => live.filter((p) => p.id === id));
  return ctx.rng.pick(weighted.length > 0 ? weighted : live);
}

/** The owner of every chaos room lease, one entry per room, sorted so picks are reproducible. */
async function leaseOwners(ctx: FaultContext): Promise<string[]> {
  try {
    const bucket = await new Kvm(ctx.monitor).open(clusterNames(ctx.system.prefix).leasesBucket);
    const owners: string[] = [];
    for await (const key of await bucket.keys(`${CHAOS_ROOM_TYPE}.*`)) {
      const entry = await bucket.get(key);
      const owner = entry?.operation === "PUT" ? decodeLeaseRecord(key, entry.value).owner : null;
      if (owner !== null) owners.push(owner);
    }
    return owners.sort();
  } catch {
    return [];
  }
}

/** The server leading the journal stream, whose loss forces an election on every journal write. */
async function journalLeader(ctx: FaultContext): Promise<NatsServer> {
  const servers = ctx.system.nats.servers;
  const stream = clusterNames(ctx.system.prefix).journalStream;
  const info = await jetstreamManager(ctx.monitor)
    .then((jsm) => jsm.streams.info(stream))
    .catch(() => undefined);
  const leader = servers.find((s) => s.name === info?.cluster?.leader);
  return leader ?? ctx.rng.pick(servers.filter((s) => s.pid !== undefined));
}

/** Cuts the sockets of one client in `share`, chosen at random. */
function dropSockets(ctx: FaultContext, share: number): number {
  const victims = ctx.rng.sample(ctx.players, Math.ceil(ctx.players.length / share));
  return victims.reduce((n, p) => n + p.tap.drop(), 0);
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  /** Load length; no fault starts later than it allows to heal and recover. */
  loadMs: number;
  /** Calm time at the start of the load. */
  warmupMs: number;
  /** Take `kinds` in order, cycling, instead of drawing each slot's kind at random. */
  cycle?: boolean;
}

/** The longest a fault slot can take (hold, restarts, recovery), so the last one ends in time. */
const SLOT_BUDGET_MS = 20_000;

/**
 * Runs one fault per slot, chosen by the seeded PRNG among `kinds`, until
 * the load ends; each slot records its window. Every fault heals itself; a
 * final `healAll` brings back anything a failed heal left down.
 */
export async function runSchedule(
  ctx: FaultContext,
  options: ScheduleOptions,
  windows: FaultWindow[],
  stopped: () => boolean,
): Promise<void> {
  await sleep(options.warmupMs);
  for (let slot = 0; !stopped() && ctx.clock() + SLOT_BUDGET_MS < options.loadMs; slot++) {
    const kinds = options.kinds;
    const kind = options.cycle ? kinds[slot % kinds.length]! : ctx.rng.pick(kinds);
    const start = ctx.clock();
    let detail: string;
    try {
      detail = await FAULTS[kind](ctx);
    } catch (error) {
      detail = `fault failed: ${String(error)}`;
      await ctx.system.healAll();
    }
    const healed = ctx.clock();
    await sleep(RECOVERY_MS);
    windows.push({ kind, start, healed, end: ctx.clock(), detail });
  }
  await ctx.system.healAll();
}
