import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import {
  BucketIncompatibleError,
  JetStreamUnavailableError,
  OwnershipLostError,
  FailStoppedError,
} from "@rookery/cluster";
import { ensureBuckets, FencedJournal } from "@rookery/cluster/internal";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";

describe("buckets", () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("buckets - provisioning from many processes at once is idempotent", async () => {
    const prefix = testNamespace("buckets idempotent provisioning");
    const connections = await Promise.all([0, 1, 2, 3].map(() => connect({ servers: server.url })));
    try {
      const all = await Promise.all(connections.map((nc) => ensureBuckets(nc, { prefix })));
      for (const buckets of all) expect(buckets.nodes).toHaveLength(1);
      await all[0]!.leases.put("chess.g1", new Uint8Array([1]));
      expect((await all[3]!.leases.get("chess.g1"))?.value).toEqual(new Uint8Array([1]));
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
    }
  });

  test("buckets - an existing bucket with another TTL fails with BUCKET_INCOMPATIBLE", async () => {
    const prefix = testNamespace("buckets incompatible ttl");
    const nc = await connect({ servers: server.url });
    try {
      await ensureBuckets(nc, { prefix, heartbeatTtlMs: 3000 });
      const error = await ensureBuckets(nc, { prefix, heartbeatTtlMs: 5000 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BucketIncompatibleError);
      expect(error).toMatchObject({ code: "BUCKET_INCOMPATIBLE", bucket: `${prefix}_nodes` });
    } finally {
      await nc.close();
    }
  });

  test("buckets - a server without JetStream fails with JETSTREAM_UNAVAILABLE", async () => {
    await using plain = await startNatsServer({ jetstream: false });
    const nc = await connect({ servers: plain.url });
    try {
      const error = await ensureBuckets(nc, { prefix: "rk" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JetStreamUnavailableError);
      expect(error).toMatchObject({ code: "JETSTREAM_UNAVAILABLE" });
    } finally {
      await nc.close();
    }
  });

  test("fencing - a journal append after another owner's append fails and latches", async () => {
    const prefix = testNamespace("fencing journal takeover");
    const nc = await connect({ servers: server.url });
    try {
      const buckets = await ensureBuckets(nc, { prefix });
      const js = jetstream(nc);
      const subject = buckets.names.journalSubject("chess", "g1");
      const first = new FencedJournal(js, subject, 0, () => true);
      await first.append(new Uint8Array([1]));
      await first.append(new Uint8Array([2]));
      // A new owner continues from the sequence it read, then writes first.
      const second = new FencedJournal(js, subject, first.revision, () => true);
      await second.append(new Uint8Array([3]));
      let lostWith: Error | undefined;
      first.onLost((err) => (lostWith = err));
      await expect(first.append(new Uint8Array([4]))).rejects.toBeInstanceOf(OwnershipLostError);
      expect(lostWith).toBeInstanceOf(OwnershipLostError);
      await expect(first.append(new Uint8Array([5]))).rejects.toBeInstanceOf(OwnershipLostError);
      const info = await (await js.jetstreamManager()).streams.info(buckets.names.journalStream);
      expect(info.state.messages).toBe(3);
      // A writer past its heartbeat deadline refuses before touching the server.
      const dead = new FencedJournal(js, subject, second.revision, () => false);
      await expect(dead.append(new Uint8Array([6]))).rejects.toBeInstanceOf(FailStoppedError);
      expect(
        (await (await js.jetstreamManager()).streams.info(buckets.names.journalStream)).state
          .messages,
      ).toBe(3);
    } finally {
      await nc.close();
    }
  });
});
