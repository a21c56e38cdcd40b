import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ClusterMember, RoomRouter } from "@rookery/cluster";
import { InternalKind, type MemberInfo } from "@rookery/protocol/internal";
import { until } from "@rookery/testkit";
import { expect } from "vitest";

/** A member joined through `gateway` (which must be live, or rooms drop its members as ghosts). */
export function memberOf(gateway: ClusterMember, user = "alice"): MemberInfo {
  return {
    id: `${user}:session-${user}-00000001`,
    user,
    name: user,
    gateway: gateway.heartbeat.id,
    gatewayEpoch: gateway.heartbeat.epoch,
    conn: `c-${user}`,
  };
}

interface RoomLoad {
  id: string;
  acked: string[];
  ackTimes: number[];
}

/**
 * Drives `rooms` durable ledger rooms like a gateway would: one member joins
 * each, then every room gets a sequential stream of inputs, each retried with
 * the same seq until acknowledged (as the client SDK does).
 */
export class LedgerLoad {
  readonly rooms: RoomLoad[];
  readonly #connections: NatsConnection[] = [];
  #routers: RoomRouter[] = [];
  #running = false;
  #loops: Promise<void>[] = [];
  #gateway: ClusterMember | undefined;
  #member!: MemberInfo;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    count: number,
    /** Pause between one room's inputs: a steady flow, not a saturating loop. */
    private readonly paceMs = 100,
  ) {
    this.rooms = Array.from({ length: count }, (_, i) => ({
      id: `r${i}`,
      acked: [],
      ackTimes: [],
    }));
  }

  /** Registers as a gateway (rooms drop members of gateways that are not live), then loads. */
  async start(): Promise<void> {
    const gatewayConnection = await connect({ servers: this.url });
    this.#connections.push(gatewayConnection);
    this.#gateway = new ClusterMember(gatewayConnection, {
      identity: { id: "gw-load", role: "gateway" },
      cluster: { prefix: this.prefix },
      sweeper: false,
    });
    await this.#gateway.start();
    this.#member = memberOf(this.#gateway);
    const alice = this.#member;
    for (let i = 0; i < 4; i++) {
      const nc = await connect({ servers: this.url });
      this.#connections.push(nc);
      this.#routers.push(new RoomRouter(nc, { prefix: this.prefix, totalWaitMs: 30_000 }));
    }
    await Promise.all(
      this.rooms.map((r, i) =>
        this.#router(i).request("ledger", r.id, { k: InternalKind.Join, member: alice }),
      ),
    );
    this.#running = true;
    this.#loops = this.rooms.map((room, i) => this.#loop(room, this.#router(i)));
    await until(
      () => this.rooms.every((r) => r.acked.length >= 3),
      20_000,
      "inputs flowing everywhere",
    );
  }

  /** Waits until every room acknowledged an input sent after `since`. */
  async servingAfter(since: number, timeoutMs = 20_000): Promise<void> {
    await until(
      () => this.rooms.every((r) => (r.ackTimes.at(-1) ?? 0) > since + 200),
      timeoutMs,
      "every room serving",
    );
  }

  /** Longest time any room went without an ack, counted from `from`, less the pacing pause. */
  worstGapAfter(from: number): number {
    let worst = 0;
    for (const { ackTimes: t } of this.rooms) {
      for (let i = 1; i < t.length; i++) {
        if (t[i]! > from) worst = Math.max(worst, t[i]! - Math.max(t[i - 1]! + this.paceMs, from));
      }
    }
    return worst;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  /** Every acknowledged input is in the recovered state, once, in order; nothing else is. */
  async verify(): Promise<void> {
    const alice = this.#member;
    for (const room of this.rooms) {
      const joined = await this.#router(0).request("ledger", room.id, {
        k: InternalKind.Join,
        member: { ...alice, conn: "c-verify" },
      });
      if (joined.k !== InternalKind.Joined) throw new Error(JSON.stringify(joined));
      const state = joined.state as { applied: string[] };
      expect(new Set(state.applied).size, `${room.id} applied an input twice`).toBe(
        state.applied.length,
      );
      expect(state.applied, room.id).toEqual(room.acked);
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    await Promise.allSettled(this.#loops);
    await this.#gateway?.stop();
    for (const nc of this.#connections) await nc.close();
  }

  #router(i: number): RoomRouter {
    return this.#routers[i % this.#routers.length]!;
  }

  async #loop(room: RoomLoad, router: RoomRouter): Promise<void> {
    const alice = this.#member;
    for (let seq = 1; this.#running; seq++) {
      const tag = `${room.id}#${seq}`;
      const body = { n: 1, tag };
      const reply = await router.request("ledger", room.id, {
        k: InternalKind.Input,
        member: alice.id,
        seq,
        type: "add",
        body,
      });
      if (reply.k !== InternalKind.Acked) throw new Error(`${tag}: ${JSON.stringify(reply)}`);
      room.acked.push(tag);
      room.ackTimes.push(performance.now());
      await new Promise((resolve) => setTimeout(resolve, this.paceMs));
    }
  }
}
