import { describe, expect, it } from "vitest";
import { formatAvailability, maxStall } from "./availability";
import { checkHistory } from "./checker";
import type { ClientLog, History, InputRecord, ViewEntry } from "./history";

const AUDITOR = "auditor:s";
const ROOMS = ["r0", "r1"];
const PER_CLIENT = 6;

/**
 * A clean run: two rooms, two clients each, every input acked in turn (one
 * refused, one outcome unknown yet applied), every client saw every event.
 */
function cleanHistory(): History {
  const inputs: InputRecord[] = [];
  const clients: ClientLog[] = [];
  const final: History["final"] = [];
  let t = 0;
  for (const room of ROOMS) {
    const members = [`a-${room}:s`, `b-${room}:s`];
    const items: string[] = [];
    const events: ViewEntry[] = [];
    for (let n = 0; n < PER_CLIENT; n++) {
      for (const client of members) {
        const tag = `${client}#${n}`;
        const reject = n === 2 && client === members[0];
        const unknown = n === 3 && client === members[1];
        t += 100;
        if (reject) {
          const outcome = { kind: "error", at: t + 20, code: "INPUT_REJECTED", message: "no" };
          inputs.push({ client, room, tag, reject, sentAt: t, outcome } as InputRecord);
          continue;
        }
        const i = items.length;
        items.push(tag);
        events.push({ k: "event", at: t + 10, seq: i + 3, type: "appended", tag, i });
        const outcome = unknown
          ? ({ kind: "error", at: t + 20, code: "ROOM_UNAVAILABLE", message: "?" } as const)
          : ({ kind: "ack", at: t + 20, result: { i } } as const);
        inputs.push({ client, room, tag, reject, sentAt: t, outcome });
      }
    }
    for (const client of members) {
      const entries: ViewEntry[] = [
        { k: "joined", at: 0, epoch: 1, seq: 2, mode: "snapshot" },
        { k: "snapshot", at: 0, items: [] },
        ...events.map((e) => ({ ...e })),
      ];
      clients.push({
        client,
        room,
        entries,
        inRoomAtEnd: true,
        membersAtEnd: [...members, AUDITOR],
      });
    }
    const all = [...members, AUDITOR];
    const lease = { owner: "node-0", ownerEpoch: "e1", roomEpoch: 1 };
    final.push({ room, items, members: all, presence: [...all], lease });
  }
  return {
    seed: 1,
    loadMs: t + 1000,
    inputs,
    clients,
    faults: [{ kind: "node-kill", start: 300, healed: 600, end: 900, detail: "node-0" }],
    final,
    auditor: AUDITOR,
    liveNodes: ["node-0/e1"],
    unexpectedExits: [],
    dupAcks: 0,
  };
}

const kinds = (h: History) => new Set(checkHistory(h).violations.map((v) => v.kind));
const acked = (h: History) => h.inputs.find((i) => i.room === "r0" && i.outcome.kind === "ack")!;
const final0 = (h: History) => h.final.find((f) => f.room === "r0")!;
const client0 = (h: History) => h.clients.find((c) => c.room === "r0")!;

describe("chaos checker", () => {
  it("chaos - a clean history has no violations", () => {
    const report = checkHistory(cleanHistory());
    expect(report.violations).toEqual([]);
    expect(report.stats).toMatchObject({ rejected: 2, unknown: 2, unknownApplied: 2, pending: 0 });
  });

  it("chaos - an acked input missing from the final state is caught", () => {
    const h = cleanHistory();
    const f = final0(h);
    f.items = f.items.filter((tag) => tag !== acked(h).tag);
    expect(kinds(h)).toContain("acked-missing");
  });

  it("chaos - an input applied twice is caught", () => {
    const h = cleanHistory();
    final0(h).items.push(acked(h).tag);
    expect(kinds(h)).toContain("duplicate");
  });

  it("chaos - an unknown outcome applied twice is caught", () => {
    const h = cleanHistory();
    const unknown = h.inputs.find(
      (i) => i.room === "r0" && i.outcome.kind === "error" && i.outcome.code === "ROOM_UNAVAILABLE",
    )!;
    final0(h).items.push(unknown.tag);
    expect(kinds(h)).toContain("duplicate");
  });

  it("chaos - an ack whose index does not match the state is caught", () => {
    const h = cleanHistory();
    acked(h).outcome = { kind: "ack", at: 1, result: { i: 5 } };
    expect(kinds(h)).toContain("ack-index");
  });

  it("chaos - a view that diverges from the final history is caught", () => {
    const h = cleanHistory();
    const entries = client0(h).entries;
    const last = entries.findLastIndex((e) => e.k === "event");
    entries.splice(last - 3, 0, { k: "snapshot", at: 1, items: ["elsewhere"] });
    expect(kinds(h)).toContain("divergent-view");
  });

  it("chaos - a gap in a client's event stream is caught", () => {
    const h = cleanHistory();
    const entries = client0(h).entries;
    entries.splice(
      entries.findIndex((e) => e.k === "event"),
      1,
    );
    expect(kinds(h)).toContain("divergent-view");
  });

  it("chaos - a ghost member is caught, and presence that disagrees", () => {
    const h = cleanHistory();
    final0(h).members.push("gone:s");
    expect(kinds(h)).toEqual(new Set(["ghost", "presence-mismatch", "not-converged"]));
    const h2 = cleanHistory();
    final0(h2).presence!.pop();
    expect(kinds(h2)).toEqual(new Set(["presence-mismatch"]));
  });

  it("chaos - an input whose promise never settled is caught", () => {
    const h = cleanHistory();
    acked(h).outcome = { kind: "pending" };
    expect(kinds(h)).toContain("unresolved");
  });

  it("chaos - an input answered only after the liveness bound is caught", () => {
    const h = cleanHistory();
    const input = acked(h);
    input.outcome = { ...input.outcome, at: input.sentAt + 60_000 } as typeof input.outcome;
    expect(kinds(h)).toEqual(new Set(["stuck"]));
  });

  it("chaos - a refused input, or one with a final error, found in the state is caught", () => {
    const h = cleanHistory();
    const refused = h.inputs.find((i) => i.reject)!;
    final0(h).items.push(refused.tag);
    expect(kinds(h)).toContain("final-error-applied");
    expect(kinds(h)).toContain("phantom");
    const h2 = cleanHistory();
    acked(h2).outcome = { kind: "error", at: 1, code: "SEQ_EXPIRED", message: "" };
    expect(kinds(h2)).toEqual(new Set(["final-error-applied"]));
  });

  it("chaos - a refused input acked, or an accepted one refused, is caught", () => {
    const h = cleanHistory();
    h.inputs.find((i) => i.reject)!.outcome = { kind: "ack", at: 1, result: null };
    expect(kinds(h)).toContain("wrong-outcome");
    const h2 = cleanHistory();
    const f = final0(h2);
    const input = acked(h2);
    f.items = f.items.filter((tag) => tag !== input.tag);
    input.outcome = { kind: "error", at: 1, code: "INPUT_REJECTED", message: "" };
    expect(kinds(h2)).toContain("wrong-outcome");
  });

  it("chaos - a client that did not converge is caught", () => {
    const h = cleanHistory();
    const entries = client0(h).entries;
    entries.splice(
      entries.findLastIndex((e) => e.k === "event"),
      1,
    );
    expect(kinds(h)).toEqual(new Set(["not-converged"]));
    const h2 = cleanHistory();
    client0(h2).membersAtEnd.pop();
    expect(kinds(h2)).toEqual(new Set(["not-converged"]));
  });

  it("chaos - two owners: an epoch going back, or two events at one (epoch, seq), are caught", () => {
    const h = cleanHistory();
    client0(h).entries.push({ k: "joined", at: 9, epoch: 0, seq: 1, mode: "snapshot" });
    expect(kinds(h)).toContain("epoch-regress");
    const h2 = cleanHistory();
    const event = client0(h2).entries.find((e) => e.k === "event")!;
    Object.assign(event, { tag: "other" });
    expect(kinds(h2)).toContain("conflicting-event");
  });

  it("chaos - a lease held by a dead node, or behind what clients saw, is caught", () => {
    const h = cleanHistory();
    h.liveNodes = ["node-0/e2"];
    expect(kinds(h)).toEqual(new Set(["lease"]));
    const h2 = cleanHistory();
    final0(h2).lease!.roomEpoch = 0;
    expect(kinds(h2)).toEqual(new Set(["lease"]));
  });

  it("chaos - an unexpected process exit is reported", () => {
    const h = cleanHistory();
    h.unexpectedExits.push("node node-1 (code 1)");
    expect(kinds(h)).toEqual(new Set(["process-exit"]));
  });

  it("chaos - availability attributes inputs to fault windows and measures stalls", () => {
    const h = cleanHistory();
    const rows = checkHistory(h).availability;
    const fault = rows.find((r) => r.kind === "node-kill")!;
    expect(fault.windows).toBe(1);
    expect(fault.sent).toBe(6);
    expect(rows.reduce((n, r) => n + r.sent, 0)).toBe(h.inputs.length);
    expect(maxStall([100, 200, 1500, 1600], { start: 150, end: 1000 }, 2000)).toBe(800);
    expect(maxStall([100], { start: 150, end: 1000 }, 2000)).toBe(850);
    expect(formatAvailability(rows)).toContain("node-kill");
    const calm = rows.find((r) => r.kind === "calm")!;
    expect(calm.unknown + fault.unknown).toBe(2);
    const byCode = (r: typeof calm) => r.unknownBy.ROOM_UNAVAILABLE ?? 0;
    expect(byCode(calm) + byCode(fault)).toBe(2);
  });
});
