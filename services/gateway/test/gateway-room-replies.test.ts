/**
 * A room's reply must be the success reply its request names (RoomReplyKind)
 * or `err`: a reply of another kind is the server's fault, and the client
 * gets INTERNAL for its request instead of no answer at all. The "room" here
 * is a plain NATS responder on the room's inbox, answering whatever a test
 * tells it to.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer, testNamespace, until, type NatsServer } from "@rookery/testkit";
import { ErrorCode, names, ResumeMode, encodeFrame } from "@rookery/protocol";
import {
  decodeRoomRequest,
  InternalKind,
  type RoomReply,
  type RoomRequest,
} from "@rookery/protocol/internal";
import type { Gateway } from "../src/index";
import { RawClient, startGateway } from "./harness";

const prefix = testNamespace("gateway - room replies");
const joined: RoomReply = {
  k: InternalKind.Joined,
  epoch: 1,
  seq: 0,
  mode: ResumeMode.Snapshot,
  members: [],
  leader: null,
};

let server: NatsServer;
let nc: NatsConnection;
let gateway: Gateway;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  gateway = await startGateway(server.url, prefix);
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
afterAll(async () => {
  await gateway?.stop();
  await nc?.close();
  await server?.stop();
});

/** Answers every request on the room's inbox with `answer(request)`; records the requests. */
function fakeRoom(id: string, answer: (request: RoomRequest) => RoomReply): RoomRequest[] {
  const seen: RoomRequest[] = [];
  const sub = nc.subscribe(names(prefix).subjects.roomIn("chess", id), {
    callback: (_error, msg) => {
      const decoded = decodeRoomRequest(msg.data);
      if (!decoded.ok) return;
      seen.push(decoded.frame);
      msg.respond(encodeFrame(answer(decoded.frame)));
    },
  });
  cleanups.push(() => sub.unsubscribe());
  return seen;
}

async function client(): Promise<RawClient> {
  const c = await RawClient.connect(gateway.url, "mallory");
  cleanups.push(() => c.close());
  return c;
}

describe("gateway - room replies of the wrong kind", () => {
  it("replies - an input answered `left` instead of `acked` gets INTERNAL with its seq", async () => {
    fakeRoom("wrong-ack", (request) =>
      request.k === InternalKind.Join ? joined : { k: InternalKind.Left },
    );
    const c = await client();
    await c.join("chess", "wrong-ack");
    const answer = await c.input("chess", "wrong-ack", "move", { from: "e2" });
    expect(answer).toMatchObject({ k: "error", code: ErrorCode.INTERNAL, seq: 1 });
    expect(c.frames.filter((f) => f.k === "ack")).toEqual([]);
  });

  it("replies - a join answered `acked` gets INTERNAL with its ref, and the member leaves", async () => {
    const seen = fakeRoom("wrong-join", (request) =>
      request.k === InternalKind.Join
        ? { k: InternalKind.Acked, seq: 1 }
        : { k: InternalKind.Left },
    );
    const c = await client();
    const error = await c.join("chess", "wrong-join").then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(error?.code).toBe(ErrorCode.INTERNAL);
    // The join's outcome at the room is unknown: the gateway sends a leave for it.
    await until(() => seen.length === 2, 5000, "a leave after the failed join");
    expect(seen.map((r) => r.k)).toEqual([InternalKind.Join, InternalKind.Leave]);
  });
});
