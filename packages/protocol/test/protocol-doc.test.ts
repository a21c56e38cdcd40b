import { describe, expect, it } from "vitest";
import { CloseCode, closeCodeInfo, ErrorCode, errorDescriptions } from "@rookery/protocol";
import { errorBudgetCodes } from "@rookery/protocol/internal";
import {
  closeTable,
  documentedOutcome,
  errorTable,
  handshakeTable,
  readProtocolDoc,
  section,
  socketClauses,
} from "./protocol-doc";

const doc = readProtocolDoc();
const errors = errorTable(doc);
const closes = closeTable(doc);
const sorted = (values: Iterable<string | number>) => [...values].map(String).sort();
/** The standard close codes §11 names besides its table. */
const STANDARD_CLOSES = [1000, 1001, 1009];

describe("protocol - docs/protocol.md tables and errors.ts", () => {
  it("protocol - §10 lists every ErrorCode once, and nothing else", () => {
    const codes = errors.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(sorted(codes)).toEqual(sorted(Object.values(ErrorCode)));
  });

  it("protocol - §11 lists every CloseCode once, and nothing else", () => {
    const codes = closes.map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(sorted(codes)).toEqual(sorted(Object.values(CloseCode)));
  });

  it("protocol - §10's budget column is errorBudgetCodes", () => {
    const counted = errors.filter((row) => row.budget === "yes").map((row) => row.code);
    expect(sorted(counted)).toEqual(sorted(errorBudgetCodes));
    expect(counted).toContain(ErrorCode.RATE_LIMITED);
  });

  it("protocol - codes never on the wire have no socket outcome and no budget", () => {
    for (const row of errors) {
      const offWire = row.socket.length === 0;
      expect(row.budget === "—", row.code).toBe(offWire);
    }
    const offWire = errors.filter((row) => row.socket.length === 0).map((row) => row.code);
    expect(sorted(offWire)).toEqual(sorted([ErrorCode.ROOM_MOVED, ErrorCode.QUEUE_FULL]));
  });

  it("protocol - every close code §10 names is in §11 or a standard one", () => {
    const known = new Set([...closes.map((row) => row.code), ...STANDARD_CLOSES]);
    for (const row of errors) {
      for (const clause of row.socket) {
        if ("close" in clause.outcome) expect(known.has(clause.outcome.close), row.code).toBe(true);
      }
    }
  });

  it("protocol - §11 'do not' matches closeCodeInfo.reconnect", () => {
    for (const row of closes) {
      const info = closeCodeInfo[row.code as CloseCode];
      expect(info.reconnect, `${row.code}: ${row.clientShould}`).toBe(
        !row.clientShould.includes("do not"),
      );
    }
  });

  it("protocol - every §3 handshake failure agrees with §10 and §11", () => {
    const rows = handshakeTable(doc);
    expect(rows.length).toBeGreaterThan(0);
    const known = new Set([...closes.map((row) => row.code), ...STANDARD_CLOSES]);
    for (const row of rows) {
      expect(known.has(row.close), row.failure).toBe(true);
      if (row.error === undefined) continue;
      const documented = errors.find((e) => e.code === row.error);
      expect(documented, row.failure).toBeDefined();
      const closesThere = documented!.socket.map((c) => c.outcome).filter((o) => "close" in o);
      expect(closesThere, `${row.error} in §10`).toContainEqual({ close: row.close });
    }
  });

  it("protocol - errors.ts descriptions say what §10 says for the handshake codes", () => {
    expect(errorDescriptions.NOT_AUTHENTICATED).toMatch(/first frame/);
    expect(documentedOutcome(errors.find((e) => e.code === "NOT_AUTHENTICATED")!)).toEqual({
      close: CloseCode.HANDSHAKE_FAILED,
    });
  });

  it("protocol - welcome's documented limits are the ones §9 names", () => {
    const welcome = /\| `welcome` \|[^\n]*`limits: \{([^}]*)\}`/.exec(section(doc, 4));
    expect(welcome).not.toBeNull();
    const keys = [...welcome![1]!.matchAll(/(\w+): pos/g)].map((m) => m[1]!);
    expect(sorted(keys)).toEqual(
      sorted([
        "maxFrameBytes",
        "maxRooms",
        "ratePerSec",
        "burst",
        "idleTimeoutMs",
        "maxErrorsPerMinute",
        "maxDepth",
      ]),
    );
    for (const key of keys) expect(section(doc, 9), key).toContain(`\`${key}\``);
  });

  it("protocol - socket clauses: general rule, conditions, parentheses", () => {
    expect(socketClauses("stays open; above the hard cap: closes 1009 (no frame; see §9)")).toEqual(
      [
        { when: undefined, outcome: { open: true } },
        { when: "above the hard cap", outcome: { close: 1009 } },
      ],
    );
    expect(() => socketClauses("sometimes")).toThrow(/unreadable socket clause/);
  });
});
