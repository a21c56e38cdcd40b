import { describe, expect, test } from "vitest";
import { RoomCore, type CoreEvent, type Transport } from "@rookery/actors/internal";
import { EventLog, type LocalGateway } from "../src/event-log";
import { ledgerRoom } from "./fixtures/rooms";
import { memberInfo } from "./helpers";

const room = { type: "ledger", id: "events" };

/** Counts what goes out on each path. */
function setup() {
  const published: string[] = [];
  const delivered: number[] = [];
  const transport = {
    publish: (subject: string) => void published.push(subject),
  } as unknown as Transport;
  const local: LocalGateway = { id: "gw-local", deliver: (_room, e) => void delivered.push(e.seq) };
  const core = new RoomCore(ledgerRoom as never, room, null, 0);
  const log = new EventLog(room, 1, "events.subject", { transport, local, replayBuffer: 10 }, () =>
    core.storedMembers(),
  );
  let seq = 0;
  const publish = () => {
    const event: CoreEvent = { seq: ++seq, type: "tick", body: null };
    log.publish([event]);
  };
  return { core, log, publish, published, delivered };
}

describe("event log", () => {
  test("event log - events go on NATS exactly while a member is connected elsewhere", () => {
    const { core, publish, published, delivered } = setup();
    const here = memberInfo("alice", "gw-local");
    const there = memberInfo("bob", "gw-other");
    core.apply({ k: "join", member: here, at: 1 });
    publish();
    expect(published).toHaveLength(0);
    core.apply({ k: "join", member: there, at: 2 });
    publish();
    expect(published).toHaveLength(1);
    // Bob comes back through the local gateway: nobody is elsewhere any more.
    core.apply({ k: "join", member: { ...there, gateway: "gw-local", conn: "c2" }, at: 3 });
    publish();
    expect(published).toHaveLength(1);
    // And moves away again, then leaves.
    core.apply({ k: "join", member: { ...there, conn: "c3" }, at: 4 });
    publish();
    expect(published).toHaveLength(2);
    core.apply({ k: "leave", member: there.id, reason: "left", at: 5 });
    publish();
    expect(published).toHaveLength(2);
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
  });

  test("event log - a rolled-back join of a remote member publishes nothing on NATS", () => {
    const { core, publish, published } = setup();
    core.apply({ k: "join", member: memberInfo("alice", "gw-local"), at: 1 });
    publish();
    const entry = { k: "join", member: memberInfo("bob", "gw-other"), at: 2 } as const;
    const checkpoint = core.checkpoint(entry);
    core.apply(entry);
    publish();
    expect(published).toHaveLength(1);
    core.restore(checkpoint);
    publish();
    expect(published).toHaveLength(1);
  });

  test("event log - resumes get the last replayBuffer events, oldest first, after any number of events", () => {
    const { log, publish } = setup();
    for (let n = 1; n <= 40; n++) {
      publish();
      const seqs = log.buffered.map((e) => e.seq);
      const from = Math.max(1, n - 9);
      expect(seqs).toEqual(Array.from({ length: n - from + 1 }, (_, i) => from + i));
    }
  });
});
