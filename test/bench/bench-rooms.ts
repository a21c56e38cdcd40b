/**
 * Room types only the benchmarks load (ROOKERY_ROOM_MODULES): the party
 * queue without a journal, to compare with Colyseus, which keeps nothing.
 */
import { Durability, type RoomDefinition } from "@rookery/actors";
import { partyQueueRoom } from "@rookery/examples";
import { fixtures } from "../../services/node/test/nodes";

export const ephemeralPartyRoom: RoomDefinition<unknown, never> = {
  ...(partyQueueRoom as unknown as RoomDefinition<unknown, never>),
  type: "eparty",
  durability: Durability.Ephemeral,
};

/** Node environment that loads the test rooms and these (for `startNode`). */
export const BENCH_ROOMS = {
  ROOKERY_ROOM_MODULES: [fixtures, new URL("./bench-rooms.ts", import.meta.url).pathname].join(","),
};

/** Gateway environment: no per-connection rate limit, so the bench measures the system. */
export const UNLIMITED_RATE = { ROOKERY_RATE_PER_SEC: "1000000", ROOKERY_BURST: "1000000" };
