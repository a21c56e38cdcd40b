import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { decodeAny } from "@rookery/cluster/internal";
import { ErrorCode, ResumeMode } from "@rookery/protocol";
import { InternalKind, type RoomReply } from "@rookery/protocol/internal";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";
import type { RoomRouter } from "@rookery/cluster";
import { Cluster, expectKind, memberOf } from "./helpers";

/** An input request of `member` to room `type/id`. */
function input(
  router: RoomRouter,
  room: string,
  member: string,
  seq: number,
  type: string,
  body: unknown,
) {
  const [t, id] = room.split("/") as [string, string];
  return router.request(t, id, { k: InternalKind.Input, member, seq, type, body: body as never });
}

function expectError(reply: RoomReply, code: ErrorCode): { message: string } {
  if (reply.k !== InternalKind.Err || reply.code !== code)
    throw new Error(`expected ${code}, got ${JSON.stringify(reply)}`);
  return reply;
}

describe("exactly-once effect", () => {
  let server: NatsServer;
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
    (globalThis as { fickleBroken?: boolean }).fickleBroken = false;
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function setUp(title: string, options = {}) {
    cluster = new Cluster(server.url, testNamespace(title));
    const node = await cluster.node("n1", { quietSnapshotMs: 0, ...options });
    const router = await cluster.router(3000);
    const gw = await cluster.gateway();
    return { cluster, node, router, gw };
  }

  async function join(
    router: RoomRouter,
    room: string,
    member: ReturnType<Awaited<ReturnType<Cluster["gateway"]>>>,
  ) {
    const [type, id] = room.split("/") as [string, string];
    return expectKind(
      await router.request(type, id, { k: InternalKind.Join, member }),
      InternalKind.Joined,
    );
  }

  test("dedupe - a resend gets its original outcome, a refusal stays a refusal after the sender leads", async () => {
    const { cluster, router, gw } = await setUp("dedupe original outcome");
    const alice = gw("alice");
    const bob = gw("bob");
    await join(router, "stage/s", alice);
    await join(router, "stage/s", bob);
    // Bob is not the leader: refused.
    const refused = expectError(
      await input(router, "stage/s", bob.id, 1, "claim", { tag: "b1" }),
      ErrorCode.INPUT_REJECTED,
    );
    const accepted = expectKind(
      await input(router, "stage/s", alice.id, 1, "claim", { tag: "a1" }),
      InternalKind.Acked,
    );
    expect(accepted).toMatchObject({ seq: 1, result: 1 });
    expect(accepted.dup).toBeUndefined();

    // Alice leaves: Bob leads now. His resend of seq 1 is the same input: refused again.
    await router.request("stage", "s", {
      k: InternalKind.Leave,
      member: alice.id,
      conn: alice.conn,
    });
    const again = expectError(
      await input(router, "stage/s", bob.id, 1, "claim", { tag: "b1" }),
      ErrorCode.INPUT_REJECTED,
    );
    expect(again.message).toBe(refused.message);
    // A resend of an accepted input repeats its result.
    const dup = expectKind(
      await input(router, "stage/s", alice.id, 1, "claim", { tag: "a1" }),
      InternalKind.Acked,
    );
    expect(dup).toMatchObject({ seq: 1, result: 1, dup: true });

    // Both outcomes survive a handover (drain: the next owner replays the journal).
    await cluster.node("n2");
    await cluster.hosts[0]!.stop();
    expectError(
      await input(router, "stage/s", bob.id, 1, "claim", { tag: "b1" }),
      ErrorCode.INPUT_REJECTED,
    );
    const moved = expectKind(
      await input(router, "stage/s", alice.id, 1, "claim", { tag: "a1" }),
      InternalKind.Acked,
    );
    expect(moved).toMatchObject({ result: 1, dup: true });
    const fresh = expectKind(
      await input(router, "stage/s", bob.id, 2, "claim", { tag: "b2" }),
      InternalKind.Acked,
    );
    expect(fresh).toMatchObject({ result: 2 });
  });

  test("dedupe - a seq never processed is never answered as a duplicate, even after a later one", async () => {
    const { router, gw } = await setUp("dedupe out of order");
    const alice = gw("alice");
    await join(router, "ledger/o", alice);
    expectKind(
      await input(router, "ledger/o", alice.id, 3, "add", { n: 1, tag: "s3" }),
      InternalKind.Acked,
    );
    const late = expectKind(
      await input(router, "ledger/o", alice.id, 2, "add", { n: 1, tag: "s2" }),
      InternalKind.Acked,
    );
    expect(late.dup).toBeUndefined();
    expect(late.result).toBe(2);
  });

  test("dedupe - a seq older than the window is SEQ_EXPIRED, never a duplicate", async () => {
    const { router, gw } = await setUp("dedupe window floor", { dedupeWindow: 4 });
    const alice = gw("alice");
    await join(router, "ledger/w", alice);
    for (const seq of [1, 2, 3, 4, 5, 6])
      expectKind(
        await input(router, "ledger/w", alice.id, seq, "add", { n: 1, tag: `t${seq}` }),
        InternalKind.Acked,
      );
    expectError(
      await input(router, "ledger/w", alice.id, 1, "add", { n: 1, tag: "t1" }),
      ErrorCode.SEQ_EXPIRED,
    );
    const inWindow = expectKind(
      await input(router, "ledger/w", alice.id, 3, "add", { n: 1, tag: "t3" }),
      InternalKind.Acked,
    );
    expect(inWindow).toMatchObject({ dup: true, result: 3 });
  });

  test("journal - a linked message that cannot be read fails the activation instead of dropping acked inputs", async () => {
    const { cluster, node, router, gw } = await setUp("journal gap", { snapshotEvery: 1000 });
    const alice = gw("alice");
    await join(router, "ledger/g", alice);
    for (const seq of [1, 2, 3])
      expectKind(
        await input(router, "ledger/g", alice.id, seq, "add", { n: 1, tag: `t${seq}` }),
        InternalKind.Acked,
      );
    // Stands for a replica that lags: the message holding seq 2 is gone.
    const jsm = await jetstreamManager(memberOf(node).nc);
    const stream = memberOf(node).buckets.names.journalStream;
    const subject = memberOf(node).buckets.names.journalSubject("ledger", "g");
    const seqs: number[] = [];
    for (let seq = 1; ; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!msg) break;
      if (
        msg.subject === subject &&
        (decodeAny(msg.data) as { e: { seq?: number }[] }).e.some((e) => e.seq === 2)
      )
        seqs.push(seq);
    }
    expect(seqs).toHaveLength(1);
    await jsm.streams.deleteMessage(stream, seqs[0]!);

    await cluster.node("n2", { quietSnapshotMs: 0 });
    await node.stop();
    // Before: joined with state [t1, t3], an acknowledged input silently lost.
    await expect(
      router.request("ledger", "g", { k: InternalKind.Join, member: alice }),
    ).rejects.toMatchObject({ code: ErrorCode.ROOM_UNAVAILABLE });
  });

  test("replay - a journaled input that fails on replay fails the activation, loudly", async () => {
    const { cluster, node, router, gw } = await setUp("replay failure", { snapshotEvery: 1000 });
    const alice = gw("alice");
    await join(router, "fickle/f", alice);
    expectKind(
      await input(router, "fickle/f", alice.id, 1, "add", { tag: "a" }),
      InternalKind.Acked,
    );
    (globalThis as { fickleBroken?: boolean }).fickleBroken = true;
    await cluster.node("n2", { quietSnapshotMs: 0 });
    await node.stop();
    // Before: the entry was skipped and the room served without the acked input.
    await expect(
      router.request("fickle", "f", { k: InternalKind.Join, member: alice }),
    ).rejects.toMatchObject({ code: ErrorCode.ROOM_UNAVAILABLE });
  });

  test("resume - a re-activated durable room answers a resume with a snapshot, not a replay", async () => {
    const { cluster, node, router, gw } = await setUp("resume across epochs");
    const alice = gw("alice");
    const first = await join(router, "ledger/r", alice);
    expectKind(
      await input(router, "ledger/r", alice.id, 1, "add", { n: 1, tag: "t1" }),
      InternalKind.Acked,
    );
    await cluster.node("n2");
    await node.stop();
    const resumed = await join(router, "ledger/r", { ...alice, conn: "c-alice-2" } as typeof alice);
    expect(resumed.epoch).toBeGreaterThan(first.epoch);
    const again = expectKind(
      await router.request("ledger", "r", {
        k: InternalKind.Join,
        member: { ...alice, conn: "c-alice-3" },
        since: first.seq,
        epoch: first.epoch,
      }),
      InternalKind.Joined,
    );
    expect(again.mode).toBe(ResumeMode.Snapshot);
    expect(again.state).toMatchObject({ applied: ["t1"] });
  });
});
