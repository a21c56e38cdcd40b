import { describe, expect, test } from "vitest";
import { HandlerBatch, RoomCore, type BatchJob, type JournalEntry } from "@rookery/actors/internal";
import { startNatsServer, testNamespace, until } from "@rookery/testkit";
import { flakyRoom } from "./fixtures/rooms";
import { Cluster, expectKind, InternalKind, memberInfo } from "./helpers";

const alice = memberInfo("alice");

/** What a job reported back: its input's seq and the result or the error's name. */
type Outcome = [seq: number, result: unknown];

/** A mailbox turn as the room actor builds one: checkpoint, apply, answer after the batch. */
function inputJob(core: RoomCore, seq: number, type: string, out: Outcome[], body: unknown = null) {
  let checkpoint: ReturnType<RoomCore["checkpoint"]> | undefined;
  const job: BatchJob = {
    after: undefined,
    run: () => {
      const entry: JournalEntry = {
        k: "input",
        member: alice.id,
        seq,
        type,
        body: body as never,
        at: 1,
      };
      checkpoint = core.checkpoint(entry);
      try {
        const { result } = core.apply(entry);
        job.after = () => out.push([seq, result]);
      } catch (error) {
        job.after = () => out.push([seq, (error as Error).name]);
      }
    },
    rollback: () => {
      if (checkpoint) core.restore(checkpoint);
    },
    failed: (error) => () => out.push([seq, `failed: ${String(error)}`]),
  };
  return job;
}

describe("handler batch", () => {
  test("handler batch - a runaway among other turns is cut off and rejected; the rest apply in order", async () => {
    const core = new RoomCore(flakyRoom as never, { type: "flaky", id: "b" }, null, 200);
    core.apply({ k: "join", member: alice, at: 0 });
    const batch = new HandlerBatch(200, (error) => {
      throw error;
    });
    const out: Outcome[] = [];
    const started = performance.now();
    batch.submit(inputJob(core, 1, "inc", out));
    batch.submit(inputJob(core, 2, "spin", out, { ms: 2000 }));
    batch.submit(inputJob(core, 3, "inc", out));
    batch.submit(inputJob(core, 4, "boom", out));
    batch.submit(inputJob(core, 5, "inc", out));
    await until(() => out.length === 5, 5000, "every turn answered");
    // Cut at a quarter budget inside the batch, then at the full budget alone: 1.25 budgets.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out).toEqual([
      [1, 1],
      [2, "HandlerTimeoutError"],
      [3, 2],
      [4, "Error"],
      [5, 3],
    ]);
    // Neither failed handler left a trace: not its +1000, not its seq in the dedupe table.
    expect(core.state).toEqual({ count: 3 });
    expect(core.lastSeq(alice.id)).toBe(5);
  });

  test("handler batch - an apply cut off mid-way is restored, dedupe entry included", () => {
    const core = new RoomCore(flakyRoom as never, { type: "flaky", id: "c" }, null, 200);
    core.apply({ k: "join", member: alice, at: 0 });
    core.apply({ k: "input", member: alice.id, seq: 1, type: "inc", body: null, at: 1 });
    const entry: JournalEntry = {
      k: "input",
      member: alice.id,
      seq: 2,
      type: "inc",
      body: null,
      at: 2,
    };
    const checkpoint = core.checkpoint(entry);
    core.apply(entry);
    expect(core.lastSeq(alice.id)).toBe(2);
    core.restore(checkpoint);
    expect(core.state).toEqual({ count: 1 });
    expect(core.lastSeq(alice.id)).toBe(1);
  });
});

describe("handler batch on a node", () => {
  test("handler batch - a resume join batched behind inputs replays their events too", async () => {
    await using server = await startNatsServer();
    const cluster = new Cluster(server.url, testNamespace("batch resume join"));
    try {
      await cluster.node("n1");
      const router = await cluster.router();
      const [alice, bob] = [memberInfo("alice"), memberInfo("bob")];
      const join = (member: typeof bob, resume?: { since: number; epoch: number }) =>
        router.request("ledger", "r", { k: InternalKind.Join, member, ...resume });
      expectKind(await join(alice), InternalKind.Joined);
      const { seq: seen, epoch } = expectKind(await join(bob), InternalKind.Joined);
      for (let round = 0; round < 20; round++) {
        // Sent in one tick, so the node reads them together and applies them in one batch.
        const inputs = [1, 2, 3].map((i) =>
          router.request("ledger", "r", {
            k: InternalKind.Input,
            member: alice.id,
            seq: round * 3 + i,
            type: "add",
            body: { n: 1, tag: `${round}-${i}` },
          }),
        );
        const rejoin = join({ ...bob, conn: `c-bob-${round}` }, { since: seen, epoch });
        const resumed = expectKind(await rejoin, InternalKind.Joined);
        await Promise.all(inputs);
        // Every event between what bob saw and the view's seq is in the replay, once, in order.
        expect(resumed.mode).toBe("replay");
        const expected = Array.from({ length: resumed.seq - seen }, (_, i) => seen + 1 + i);
        expect(resumed.replay?.map((e) => e.seq)).toEqual(expected);
      }
    } finally {
      await cluster.close();
    }
  });
});
