import type { RoomRef } from "@rookery/protocol";
import type { RoomReply, RoomRequest } from "@rookery/protocol/internal";

/**
 * The rooms of the actor node role of this process (the co-located shape,
 * docs/gateway.md "Two shapes"). A request to a room active here skips NATS
 * and every encode/decode: it goes straight into the actor's mailbox.
 */
export interface LocalRooms {
  /** The room's actor when it is active here and taking requests; undefined: go over NATS. */
  serving(room: RoomRef): LocalRoom | undefined;
  /**
   * Activates the room here unless a live node owns it (room-affine
   * placement: a room lives where its first joiner is connected). Resolves
   * true when the room is now served here.
   */
  place(room: RoomRef): Promise<boolean>;
}

/** One room active in this process. */
export interface LocalRoom {
  /** The same request and reply as over NATS; always settles (ROOM_MOVED when it moved away). */
  request(frame: RoomRequest): Promise<RoomReply>;
}
