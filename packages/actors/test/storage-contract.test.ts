import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FailStoppedError, OwnershipLostError, type ClusterBuckets } from "@rookery/cluster";
import { ensureBuckets } from "@rookery/cluster/internal";
import { startNatsServer, testNamespace, type NatsServer } from "@rookery/testkit";
import { NatsRoomStorage } from "@rookery/actors/nats";
import { encodeBatch, type JournalEntry } from "../src/journal";
import { JournalGapError, readJournalTail } from "../src/journal-reader";
import { MemoryRoomStorage, StorageFaultError } from "../src/memory-storage";
import type { RoomRef, RoomStorage } from "../src/storage";

/** One implementation under test, and how to lose one of its journal messages. */
interface Subject {
  storage: RoomStorage;
  lose(room: RoomRef, seq: number): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | null | undefined) => data && new TextDecoder().decode(data);
const live = () => true;
const member = (user: string) => `${user}:session-${user}-0000001`;
const read = (msg: { seq: number; data: Uint8Array } | null) =>
  msg && { seq: msg.seq, text: text(msg.data) };
const record = (member: string) => ({
  member,
  user: member,
  name: member,
  gateway: "gw",
  gatewayEpoch: "e1",
  conn: `c-${member}`,
  joinedAt: 1,
  leader: false,
});
let rooms = 0;
const newRoom = (): RoomRef => ({ type: "ledger", id: `r${++rooms}` });

/** The same suite for every implementation of the storage port. */
function contract(name: string, open: () => Promise<Subject>): void {
  describe(`storage contract: ${name}`, () => {
    let subject: Subject;
    beforeAll(async () => {
      subject = await open();
    });

    test(`storage (${name}) - a new room has no snapshot, no journal, no presence`, async () => {
      const { storage } = subject;
      const room = newRoom();
      expect(await storage.loadSnapshot(room)).toEqual({ value: null, revision: 0 });
      expect(await storage.journalHead(room)).toBeNull();
      expect(await storage.listPresence(room)).toEqual([]);
    });

    test(`storage (${name}) - snapshot writes are fenced on the revision; a lost fence latches`, async () => {
      const { storage } = subject;
      const room = newRoom();
      const first = storage.openSnapshot(room, 0, live);
      const r1 = await first.write(bytes("one"));
      expect(r1).toBeGreaterThan(0);
      expect(first.revision).toBe(r1);
      const stored = await storage.loadSnapshot(room);
      expect({ ...stored, value: text(stored.value) }).toEqual({ value: "one", revision: r1 });
      const zombie = storage.openSnapshot(room, 0, live);
      await expect(zombie.write(bytes("zombie"))).rejects.toBeInstanceOf(OwnershipLostError);
      // Taken over: the successor's write fences the first writer out for good.
      const next = storage.openSnapshot(room, r1, live);
      await next.write(bytes("two"));
      await expect(first.write(bytes("three"))).rejects.toBeInstanceOf(OwnershipLostError);
      await expect(first.write(bytes("four"))).rejects.toBeInstanceOf(OwnershipLostError);
      expect(text((await storage.loadSnapshot(room)).value)).toBe("two");
    });

    test(`storage (${name}) - appends are fenced on the room's last sequence`, async () => {
      const { storage } = subject;
      const room = newRoom();
      const other = newRoom();
      const writer = storage.openJournal(room, 0, live);
      const s1 = await writer.append(bytes("a"));
      const elsewhere = await storage.openJournal(other, 0, live).append(bytes("x"));
      const s2 = await writer.append(bytes("b"));
      expect(s2).toBeGreaterThan(elsewhere);
      expect(elsewhere).toBeGreaterThan(s1);
      expect(writer.revision).toBe(s2);
      expect(read(await storage.journalHead(room))).toEqual({ seq: s2, text: "b" });
      expect(read(await storage.journalMessage(room, s1))).toEqual({ seq: s1, text: "a" });
      expect((await storage.journalHead(other))?.seq).toBe(elsewhere);

      const stale = storage.openJournal(room, s1, live);
      await expect(stale.append(bytes("stale"))).rejects.toBeInstanceOf(OwnershipLostError);
      // A newer epoch appends at the head: the first writer is fenced out.
      const successor = storage.openJournal(room, s2, live);
      const s3 = await successor.append(bytes("c"), { forMs: 1000, active: live });
      await expect(writer.append(bytes("late"))).rejects.toBeInstanceOf(OwnershipLostError);
      await expect(writer.append(bytes("later"))).rejects.toBeInstanceOf(OwnershipLostError);
      expect((await storage.journalHead(room))?.seq).toBe(s3);
    });

    test(`storage (${name}) - a writer past its liveness deadline writes nothing`, async () => {
      const { storage } = subject;
      const room = newRoom();
      let alive = true;
      const journal = storage.openJournal(room, 0, () => alive);
      const snapshot = storage.openSnapshot(room, 0, () => alive);
      alive = false;
      await expect(journal.append(bytes("a"))).rejects.toBeInstanceOf(FailStoppedError);
      await expect(snapshot.write(bytes("s"))).rejects.toBeInstanceOf(FailStoppedError);
      alive = true;
      await expect(journal.append(bytes("b"))).rejects.toBeInstanceOf(FailStoppedError);
      expect(await storage.journalHead(room)).toBeNull();
      expect((await storage.loadSnapshot(room)).value).toBeNull();
    });

    test(`storage (${name}) - the tail after a snapshot follows the back links; a missing link is a gap`, async () => {
      const { storage } = subject;
      const room = newRoom();
      const writer = storage.openJournal(room, 0, live);
      const entry = (tag: string): JournalEntry => ({ k: "tick", at: tag.length });
      const seqs: number[] = [];
      for (const tag of ["a", "bb", "ccc", "dddd"]) {
        seqs.push(await writer.append(encodeBatch(seqs.at(-1) ?? 0, [entry(tag)])));
      }
      const head = await storage.journalHead(room);
      const tail = await readJournalTail(storage, room, head, seqs[1]!);
      expect(tail).toEqual({ lastSeq: seqs[3], entries: [entry("ccc"), entry("dddd")] });
      const all = await readJournalTail(storage, room, head, 0);
      expect(all.entries.map((e) => e.at)).toEqual([1, 2, 3, 4]);

      await subject.lose(room, seqs[2]!);
      const gap = readJournalTail(storage, room, head, seqs[0]!);
      await expect(gap).rejects.toBeInstanceOf(JournalGapError);
      await expect(gap).rejects.toMatchObject({ code: "JOURNAL_GAP", seq: seqs[2] });
    });

    test(`storage (${name}) - a purge drops what lies below the kept sequence, in that room only`, async () => {
      const { storage } = subject;
      const room = newRoom();
      const other = newRoom();
      const writer = storage.openJournal(room, 0, live);
      const s1 = await writer.append(bytes("a"));
      const kept = await storage.openJournal(other, 0, live).append(bytes("x"));
      const s2 = await writer.append(bytes("b"));
      const s3 = await writer.append(bytes("c"));
      expect(storage.canPurge).toBe(true);
      await storage.purgeJournal(room, s2);
      expect(await storage.journalMessage(room, s1)).toBeNull();
      expect(text((await storage.journalMessage(room, s2))?.data)).toBe("b");
      expect((await storage.journalHead(room))?.seq).toBe(s3);
      expect((await storage.journalHead(other))?.seq).toBe(kept);
      // The next append is still fenced on the kept head.
      expect(await writer.append(bytes("d"))).toBeGreaterThan(s3);
    });

    test(`storage (${name}) - presence records are put, listed and deleted per room`, async () => {
      const { storage } = subject;
      const room = newRoom();
      const other = newRoom();
      const [alice, bob, carol] = [member("alice"), member("bob"), member("carol")];
      await storage.putPresence(room, alice, record(alice));
      await storage.putPresence(room, bob, record(bob));
      await storage.putPresence(other, carol, record(carol));
      expect((await storage.listPresence(room)).sort()).toEqual([alice, bob]);
      await storage.deletePresence(room, alice);
      expect(await storage.listPresence(room)).toEqual([bob]);
      expect(await storage.listPresence(other)).toEqual([carol]);
      // A key NATS could not hold is refused by both, and nothing is written.
      await expect(storage.putPresence(room, "no session", record("x"))).rejects.toMatchObject({
        name: "InvalidNameError",
      });
      expect(await storage.listPresence(room)).toEqual([bob]);
    });
  });
}

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

contract("nats", async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  const buckets: ClusterBuckets = await ensureBuckets(nc, {
    prefix: testNamespace("storage contract"),
  });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const storage = new NatsRoomStorage(jetstream(nc), jsm, buckets, "auto", nc.info);
  const lose = async (_room: RoomRef, seq: number) => {
    await jsm.streams.deleteMessage(buckets.names.journalStream, seq);
  };
  return { storage, lose };
});

contract("memory", async () => {
  const storage = new MemoryRoomStorage();
  return { storage, lose: async (room, seq) => storage.deleteMessage(room, seq) };
});

describe("memory storage faults", () => {
  test("memory storage - a retried append that landed is answered from the duplicate window", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openJournal(room, 0, live);
    storage.failAppends(1, { landed: true });
    const seq = await writer.append(bytes("a"), { forMs: 1000, active: live });
    expect(storage.journal(room).map((m) => m.seq)).toEqual([seq]);
    expect(writer.revision).toBe(seq);
  });

  test("memory storage - a retry that fails its condition finds its own earlier attempt by message id", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openJournal(room, 0, live);
    storage.failAppends(1, { landed: true, forget: true });
    const seq = await writer.append(bytes("a"), { forMs: 1000, active: live });
    expect(storage.journal(room).map((m) => m.seq)).toEqual([seq]);
    expect(await writer.append(bytes("b"))).toBeGreaterThan(seq);
  });

  test("memory storage - a transient failure without retry rejects and does not latch", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openJournal(room, 0, live);
    storage.failAppends(1, { landed: false });
    await expect(writer.append(bytes("a"))).rejects.toBeInstanceOf(StorageFaultError);
    expect(storage.journal(room)).toEqual([]);
    expect(await writer.append(bytes("a"))).toBeGreaterThan(0);
  });

  test("memory storage - a snapshot write whose acknowledgement was lost is recognised by the next write (as FencedKey does)", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openSnapshot(room, 0, live);
    storage.failSnapshotWrites(1, { landed: true });
    await expect(writer.write(bytes("a"))).rejects.toBeInstanceOf(StorageFaultError);
    const revision = await writer.write(bytes("b"));
    const stored = await storage.loadSnapshot(room);
    expect(stored.revision).toBe(revision);
    expect(new TextDecoder().decode(stored.value!)).toBe("b");
  });

  test("memory storage - after a lost snapshot acknowledgement, another writer's snapshot still ends the fence", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openSnapshot(room, 0, live);
    storage.failSnapshotWrites(1, { landed: true });
    await expect(writer.write(bytes("a"))).rejects.toBeInstanceOf(StorageFaultError);
    const rival = storage.openSnapshot(room, (await storage.loadSnapshot(room)).revision, live);
    await rival.write(bytes("rival"));
    await expect(writer.write(bytes("b"))).rejects.toMatchObject({ code: "OWNERSHIP_LOST" });
  });

  test("memory storage - a retry stops once the writer is no longer active", async () => {
    const storage = new MemoryRoomStorage();
    const room = newRoom();
    const writer = storage.openJournal(room, 0, live);
    storage.failAppends(100, { landed: false });
    let active = true;
    const append = writer.append(bytes("a"), { forMs: 10_000, active: () => active });
    active = false;
    await expect(append).rejects.toBeInstanceOf(StorageFaultError);
  });
});
