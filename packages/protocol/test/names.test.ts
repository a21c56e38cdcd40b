import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defaultProtocolLimits,
  formatRoom,
  InvalidFieldError,
  isRoomId,
  isRoomType,
  isUserId,
  memberId,
  names,
  parseMemberId,
  parseRoom,
  resolveProtocolLimits,
  roomAllowed,
} from "@rookery/protocol";
import {
  escapeKeyToken,
  leaseKey,
  nodeKey,
  parseLeaseKey,
  parsePresenceKey,
  presenceKey,
  presenceRoomFilter,
  stateKey,
  unescapeKeyToken,
} from "@rookery/protocol/internal";

describe("names - subjects and buckets", () => {
  it("names - default prefix rk", () => {
    const n = names();
    expect(n.subjects.roomIn("chess", "g42")).toBe("rk.room.chess.g42.in");
    expect(n.subjects.roomEvents("chess", "g42")).toBe("rk.room.chess.g42.ev");
    expect(n.subjects.place("chess")).toBe("rk.place.chess");
    expect(n.subjects.processDown).toBe("rk.sys.down");
    expect(n.subjects.journal("chess", "g42")).toBe("rk.journal.chess.g42");
    expect(n.subjects.allJournals).toBe("rk.journal.>");
    expect(n.subjects.allRoomsIn).toBe("rk.room.*.*.in");
    expect(n.subjects.allRoomEvents).toBe("rk.room.*.*.ev");
    expect(n.buckets).toEqual({
      nodes: "rk_nodes",
      leases: "rk_leases",
      presence: "rk_presence",
      state: "rk_state",
    });
    expect(n.streams.journal).toBe("rk_journal");
    expect(n.queues.place).toBe("rk_place");
  });

  it("names - a prefix isolates every name", () => {
    const n = names("t_3fa2");
    expect(n.subjects.roomIn("a", "b")).toBe("t_3fa2.room.a.b.in");
    expect(n.buckets.leases).toBe("t_3fa2_leases");
    expect(n.subjects.processDown).toBe("t_3fa2.sys.down");
  });

  it("names - rejects prefixes that are not one token", () => {
    for (const prefix of ["", "a.b", "a*", "x".repeat(49), "a b"]) {
      expect(() => names(prefix)).toThrow(InvalidFieldError);
    }
  });

  it("names - subject builders reject unsafe room identifiers", () => {
    const n = names();
    expect(() => n.subjects.roomIn("a.b", "x")).toThrow(InvalidFieldError);
    expect(() => n.subjects.roomIn("a", "x.>")).toThrow(InvalidFieldError);
    expect(() => n.subjects.place("*")).toThrow(InvalidFieldError);
    expect(() => leaseKey("a", "")).toThrow(InvalidFieldError);
  });
});

describe("names - identifiers", () => {
  it("names - room type and id patterns", () => {
    expect(isRoomType("chess_960-v2")).toBe(true);
    expect(isRoomType("x".repeat(64))).toBe(true);
    expect(isRoomType("x".repeat(65))).toBe(false);
    expect(isRoomType("a=b")).toBe(false);
    expect(isRoomId("YWJj=")).toBe(true);
    expect(isRoomId("x".repeat(128))).toBe(true);
    expect(isRoomId("x".repeat(129))).toBe(false);
    for (const bad of ["", "a.b", "a b", "*", ">", "é", "a/b"]) expect(isRoomId(bad)).toBe(false);
  });

  it("names - member ids split at the last colon", () => {
    const id = memberId("auth0|a:b", "Sx7Qm2Lp9Zt4Wn8R");
    expect(id).toBe("auth0|a:b:Sx7Qm2Lp9Zt4Wn8R");
    expect(parseMemberId(id)).toEqual({ user: "auth0|a:b", session: "Sx7Qm2Lp9Zt4Wn8R" });
    expect(parseMemberId("nosession")).toBeUndefined();
    expect(parseMemberId("u:short")).toBeUndefined();
    expect(isUserId("a\nb")).toBe(false);
    expect(isUserId("a\ud800")).toBe(false);
  });

  it("names - rooms format as type/id and match allow-lists", () => {
    const room = { type: "chess", id: "g1" };
    expect(formatRoom(room)).toBe("chess/g1");
    expect(parseRoom("chess/g1")).toEqual(room);
    expect(parseRoom("chess")).toBeUndefined();
    expect(parseRoom("chess/g1/x")).toBeUndefined();
    expect(roomAllowed(undefined, room)).toBe(true);
    expect(roomAllowed([], room)).toBe(false);
    expect(roomAllowed(["chess/g1"], room)).toBe(true);
    expect(roomAllowed(["chess/*"], room)).toBe(true);
    expect(roomAllowed(["chess/g2", "go/*", "*/*"], room)).toBe(false);
  });
});

describe("names - KV keys", () => {
  const member = "bob@x.com:Kd3Vb6Nh1Jc5Xy0T";

  it("names - key builders", () => {
    expect(nodeKey("node", "n1")).toBe("node.n1");
    expect(nodeKey("gateway", "g1")).toBe("gateway.g1");
    expect(() => nodeKey("db" as never, "x")).toThrow(InvalidFieldError);
    expect(leaseKey("chess", "g1")).toBe("chess.g1");
    expect(stateKey("chess", "g1")).toBe("chess.g1");
    expect(presenceKey("chess", "g1", member)).toBe("chess.g1.bob=40x=2Ecom=3AKd3Vb6Nh1Jc5Xy0T");
    expect(presenceRoomFilter("chess", "g1")).toBe("chess.g1.*");
    expect(() => presenceKey("chess", "g1", "not-a-member")).toThrow(InvalidFieldError);
  });

  it("names - escaped key tokens are KV-safe and reversible", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        const token = escapeKeyToken(text);
        expect(token).toMatch(/^[A-Za-z0-9_=-]*$/);
        expect(unescapeKeyToken(token)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });

  it("names - lease and presence keys parse back to what built them", () => {
    expect(parseLeaseKey(leaseKey("chess", "g=1"))).toEqual({ type: "chess", id: "g=1" });
    expect(parsePresenceKey(presenceKey("chess", "g1", member))).toEqual({
      type: "chess",
      id: "g1",
      member,
    });
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        fc.stringMatching(/^[A-Za-z0-9_=-]{1,128}$/),
        (type, id) => {
          expect(parseLeaseKey(leaseKey(type, id))).toEqual({ type, id });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("names - malformed keys parse to undefined, never a throw", () => {
    const keys = [
      "",
      "chess",
      "chess.",
      ".g1",
      "chess.g1.x",
      "=duty.sweeper",
      "ch ess.g1",
      "a.b.c.d",
    ];
    for (const key of keys) expect(parseLeaseKey(key)).toBeUndefined();
    const members = ["chess.g1", "chess.g1.not-a-member", "chess.g1.bob=4", "=duty.x.y", "a.b.c.d"];
    for (const key of members) expect(parsePresenceKey(key)).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (key) => {
        const lease = parseLeaseKey(key);
        if (lease) expect(leaseKey(lease.type, lease.id)).toBe(key);
        const presence = parsePresenceKey(key);
        if (presence) expect(presenceKey(presence.type, presence.id, presence.member)).toBe(key);
      }),
      { numRuns: 2_000 },
    );
  });

  it("names - unescape rejects tokens escape could not produce", () => {
    for (const token of ["a=", "=4", "=zz", "=61", "a.b", "=FF"]) {
      expect(unescapeKeyToken(token)).toBeUndefined();
    }
  });
});

describe("limits - defaults and resolution", () => {
  it("limits - defaults are fresh objects", () => {
    const a = defaultProtocolLimits();
    a.maxFrameBytes = 1;
    expect(defaultProtocolLimits().maxFrameBytes).toBe(64 * 1024);
  });

  it("limits - resolve fills defaults and keeps overrides", () => {
    const limits = resolveProtocolLimits({ maxRooms: 4 });
    expect(limits).toEqual({ ...defaultProtocolLimits(), maxRooms: 4 });
  });

  it("limits - resolve rejects non-positive or fractional values", () => {
    expect(() => resolveProtocolLimits({ maxFrameBytes: 0 })).toThrow(RangeError);
    expect(() => resolveProtocolLimits({ burst: 1.5 })).toThrow(RangeError);
    expect(() => resolveProtocolLimits({ heartbeatMs: 50_000 })).toThrow(RangeError);
  });
});
