/**
 * The nemesis suite's checker: a pure function from a recorded run (every
 * input and its outcome, everything each client saw, the fault windows) and
 * the final state read after healing, to the list of violated guarantees.
 */
import { availability } from "./availability";
import {
  outcomeClass,
  type CheckReport,
  type ClientLog,
  type FinalRoom,
  type History,
  type InputRecord,
  type Violation,
} from "./history";

/** Reports per client and kind beyond this are summarised, so one broken view cannot flood. */
const MAX_PER_CLIENT = 3;
/**
 * Liveness: every input gets an outcome within this long. The gateway gives
 * up on a room after 20 s (§6), so only a room nothing serves, or an answer
 * lost for good, takes longer.
 */
export const STUCK_MS = 30_000;

export function checkHistory(history: History): CheckReport {
  const finals = new Map(history.final.map((f) => [f.room, f]));
  const violations = [
    ...checkInputs(history.inputs, finals),
    ...checkStates(history.inputs, history.final),
    ...checkViews(history.clients, finals),
    ...checkMembers(history, finals),
    ...checkOwnership(history),
    ...history.unexpectedExits.map((exit): Violation => ({
      kind: "process-exit",
      detail: `${exit} exited on its own`,
    })),
  ];
  return {
    violations,
    availability: availability(history),
    stats: stats(history, finals),
  };
}

/** Where each tag sits in a room's final list. */
function positionsOf(items: readonly string[]): Map<string, number[]> {
  const positions = new Map<string, number[]>();
  items.forEach((tag, i) => positions.set(tag, [...(positions.get(tag) ?? []), i]));
  return positions;
}

function checkInputs(inputs: readonly InputRecord[], finals: Map<string, FinalRoom>): Violation[] {
  const positions = new Map([...finals].map(([room, f]) => [room, positionsOf(f.items)]));
  return inputs.flatMap((input) => {
    const final = finals.get(input.room);
    if (final === undefined) {
      return [violation("not-converged", input, "its room's final state could not be read")];
    }
    const found = checkInput(input, final, positions.get(input.room)?.get(input.tag) ?? []);
    const o = input.outcome;
    if (o.kind !== "pending" && o.at - input.sentAt > STUCK_MS) {
      const how = o.kind === "ack" ? "acked" : `${o.code} (${o.name ?? "error"})`;
      found.push(violation("stuck", input, `${how} ${o.at - input.sentAt} ms after it was sent`));
    }
    return found;
  });
}

function checkInput(input: InputRecord, final: FinalRoom, at: readonly number[]): Violation[] {
  const outcome = input.outcome;
  switch (outcomeClass(outcome)) {
    case "ack": {
      if (input.reject) return [violation("wrong-outcome", input, "a refused input was acked")];
      if (at.length === 0) return [violation("acked-missing", input, "acked, not in the state")];
      const i = (outcome as { result: unknown }).result;
      const index = typeof i === "object" && i !== null ? (i as { i?: unknown }).i : undefined;
      if (typeof index === "number" && final.items[index] === input.tag) return [];
      const detail = `ack says index ${String(index)}, state has it at ${at.join(",")}`;
      return [violation("ack-index", input, detail)];
    }
    case "final": {
      const code = (outcome as { code: string }).code;
      const found: Violation[] = [];
      if (at.length > 0) {
        found.push(violation("final-error-applied", input, `${code}, yet at index ${at[0]}`));
      }
      if (code === "INPUT_REJECTED" && !input.reject) {
        found.push(
          violation("wrong-outcome", input, "an input the room accepts got INPUT_REJECTED"),
        );
      }
      return found;
    }
    case "pending":
      return [violation("unresolved", input, "its promise never settled")];
    default:
      return [];
  }
}

/** Duplicates, and tags no client ever sent (or the room always refuses), in the final lists. */
function checkStates(inputs: readonly InputRecord[], finals: readonly FinalRoom[]): Violation[] {
  const sent = new Map(inputs.map((input) => [`${input.room}|${input.tag}`, input]));
  return finals.flatMap((final) =>
    [...positionsOf(final.items)].flatMap(([tag, at]): Violation[] => {
      const input = sent.get(`${final.room}|${tag}`);
      const found: Violation[] = [];
      if (at.length > 1) {
        const detail = `applied ${at.length} times, at ${at.join(",")}; outcome ${describe(input)}`;
        found.push({ kind: "duplicate", room: final.room, client: input?.client, tag, detail });
      }
      if (input === undefined || input.reject) {
        const detail = input ? "an input the room always refuses is in the state" : "never sent";
        found.push({ kind: "phantom", room: final.room, tag, detail });
      }
      return found;
    }),
  );
}

function checkViews(clients: readonly ClientLog[], finals: Map<string, FinalRoom>): Violation[] {
  const seen = new Map<string, string>();
  return clients.flatMap((log) => {
    const final = finals.get(log.room);
    if (final === undefined) return [];
    const found = [...walkView(log, final, seen), ...checkConvergence(log, final)];
    return capPerKind(found);
  });
}

/**
 * Replays what one client applied: each view (a snapshot, then its events)
 * must be a prefix of the final list, events contiguous, epochs monotonic,
 * and every (epoch, seq) carry the same event for everyone.
 */
function walkView(log: ClientLog, final: FinalRoom, seen: Map<string, string>): Violation[] {
  const found: Violation[] = [];
  const at = { client: log.client, room: log.room };
  let epoch = 0;
  let view: string[] | undefined;
  const closeView = (when: number) => {
    if (view !== undefined) found.push(...prefixViolations(view, final.items, at, when));
  };
  for (const entry of log.entries) {
    if (entry.k === "joined") {
      if (entry.epoch < epoch) {
        const detail = `joined at epoch ${entry.epoch} after epoch ${epoch} (t=${entry.at})`;
        found.push({ kind: "epoch-regress", ...at, detail });
      }
      epoch = Math.max(epoch, entry.epoch);
    } else if (entry.k === "snapshot") {
      closeView(entry.at);
      view = [...entry.items];
    } else {
      const key = `${log.room}|${epoch}|${entry.seq}`;
      const content = `${entry.type} ${entry.tag ?? ""} ${entry.i ?? ""}`;
      const other = seen.get(key);
      if (other !== undefined && other !== content) {
        const detail = `epoch ${epoch} seq ${entry.seq}: "${content}" here, "${other}" elsewhere`;
        found.push({ kind: "conflicting-event", ...at, detail });
      }
      seen.set(key, content);
      if (entry.type !== "appended" || entry.tag === undefined) continue;
      if (view === undefined) {
        found.push({ kind: "divergent-view", ...at, detail: "an event before any snapshot" });
        view = [];
      }
      if (entry.i !== view.length) {
        const detail = `event ${entry.tag} at index ${entry.i}, view had ${view.length} items (seq ${entry.seq}, t=${entry.at})`;
        found.push({ kind: "divergent-view", ...at, tag: entry.tag, detail });
      }
      view.push(entry.tag);
    }
  }
  closeView(Infinity);
  return found;
}

function prefixViolations(
  view: readonly string[],
  final: readonly string[],
  at: { client: string; room: string },
  when: number,
): Violation[] {
  const limit = Math.min(view.length, final.length);
  let i = 0;
  while (i < limit && view[i] === final[i]) i++;
  if (i === view.length) return [];
  const until = Number.isFinite(when) ? ` (view replaced at t=${when})` : " (last view)";
  const detail =
    i < final.length
      ? `view item ${i} is ${view[i]}, final has ${final[i]}${until}`
      : `view has ${view.length} items, final only ${final.length}${until}`;
  return [{ kind: "divergent-view", ...at, tag: view[i], detail }];
}

function checkConvergence(log: ClientLog, final: FinalRoom): Violation[] {
  if (!log.inRoomAtEnd) return [];
  const found: Violation[] = [];
  const view = lastView(log);
  const at = { client: log.client, room: log.room };
  if (view === undefined || !sameList(view, final.items)) {
    const detail = `view has ${view?.length ?? 0} items at the end, final ${final.items.length}`;
    found.push({ kind: "not-converged", ...at, detail });
  }
  if (!sameList([...log.membersAtEnd].sort(), [...final.members].sort())) {
    const detail = `members [${log.membersAtEnd.join(" ")}] vs final [${final.members.join(" ")}]`;
    found.push({ kind: "not-converged", ...at, detail });
  }
  return found;
}

/** The client's view at the end: its last snapshot and the appends after it. */
export function lastView(log: ClientLog): string[] | undefined {
  let view: string[] | undefined;
  for (const entry of log.entries) {
    if (entry.k === "snapshot") view = [...entry.items];
    else if (entry.k === "event" && entry.type === "appended" && entry.tag !== undefined)
      view?.push(entry.tag);
  }
  return view;
}

/** Final members are exactly the clients still in the room (plus the auditor); presence agrees. */
function checkMembers(history: History, finals: Map<string, FinalRoom>): Violation[] {
  const found: Violation[] = [];
  for (const [room, final] of finals) {
    const live = history.clients.filter((c) => c.room === room && c.inRoomAtEnd);
    const expected = new Set([...live.map((c) => c.client), history.auditor]);
    const members = new Set(final.members);
    for (const m of members) {
      if (!expected.has(m)) found.push({ kind: "ghost", room, client: m, detail: "member left" });
    }
    for (const m of expected) {
      if (!members.has(m))
        found.push({ kind: "not-converged", room, client: m, detail: "missing from members" });
    }
    if (final.presence && !sameList([...final.presence].sort(), [...members].sort())) {
      const removed = final.presenceRemoved?.length
        ? `; removed keys: ${final.presenceRemoved.join(", ")}`
        : "";
      const detail = `presence [${final.presence.join(" ")}] vs members [${[...members].join(" ")}]${removed}`;
      found.push({ kind: "presence-mismatch", room, detail });
    }
  }
  return found;
}

/** The final lease names a live node, and no client saw an epoch beyond the lease's. */
function checkOwnership(history: History): Violation[] {
  const live = new Set(history.liveNodes);
  return history.final.flatMap((final): Violation[] => {
    const lease = final.lease;
    if (lease === undefined) return [];
    const found: Violation[] = [];
    const room = final.room;
    if (lease.owner !== null && !live.has(`${lease.owner}/${lease.ownerEpoch}`)) {
      const detail = `owner ${lease.owner}/${lease.ownerEpoch} is not a live node`;
      found.push({ kind: "lease", room, detail });
    }
    const seen = maxEpochSeen(history.clients, room);
    if (seen > lease.roomEpoch) {
      const detail = `clients saw epoch ${seen}, the lease says ${lease.roomEpoch}`;
      found.push({ kind: "lease", room, detail });
    }
    return found;
  });
}

function maxEpochSeen(clients: readonly ClientLog[], room: string): number {
  let max = 0;
  for (const log of clients) {
    if (log.room !== room) continue;
    for (const e of log.entries) if (e.k === "joined") max = Math.max(max, e.epoch);
  }
  return max;
}

function stats(history: History, finals: Map<string, FinalRoom>): CheckReport["stats"] {
  const count = (pred: (i: InputRecord) => boolean) => history.inputs.filter(pred).length;
  const applied = (i: InputRecord) => finals.get(i.room)?.items.includes(i.tag) ?? false;
  const unknown = (i: InputRecord) => outcomeClass(i.outcome) === "unknown";
  const code = (i: InputRecord) => (i.outcome.kind === "error" ? i.outcome.code : "");
  return {
    inputs: history.inputs.length,
    acked: count((i) => i.outcome.kind === "ack"),
    rejected: count((i) => code(i) === "INPUT_REJECTED"),
    finalErrors: count((i) => outcomeClass(i.outcome) === "final" && code(i) !== "INPUT_REJECTED"),
    unknown: count(unknown),
    unknownApplied: count((i) => unknown(i) && applied(i)),
    pending: count((i) => i.outcome.kind === "pending"),
    seqExpired: count((i) => code(i) === "SEQ_EXPIRED"),
    dupAcks: history.dupAcks,
    snapshots: history.clients.reduce(
      (n, c) => n + c.entries.filter((e) => e.k === "snapshot").length,
      0,
    ),
  };
}

function capPerKind(found: Violation[]): Violation[] {
  const byKind = new Map<string, Violation[]>();
  for (const v of found) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v]);
  return [...byKind.values()].flatMap((list) => {
    if (list.length <= MAX_PER_CLIENT) return list;
    const more = list.length - MAX_PER_CLIENT;
    const first = list[0]!;
    return [...list.slice(0, MAX_PER_CLIENT), { ...first, detail: `…and ${more} more like it` }];
  });
}

function violation(kind: Violation["kind"], input: InputRecord, detail: string): Violation {
  return { kind, room: input.room, client: input.client, tag: input.tag, detail };
}

function describe(input: InputRecord | undefined): string {
  if (input === undefined) return "never sent";
  const o = input.outcome;
  return o.kind === "error" ? `error ${o.code}` : o.kind;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
