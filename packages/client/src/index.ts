/**
 * @rookery/client: the Rookery client SDK, for browsers and Node.
 *
 * ```ts
 * import { connect } from "@rookery/client";
 *
 * const client = await connect({ discoveryUrl: "https://gw.example.com", token, region: "eu" });
 * const room = await client.join("party", "friday");
 * room.onEvent("queue", (queue) => render(queue));
 * room.on("members", (members) => showMembers(members));
 * await room.send("add", { title: "Song 2" }); // resolves once the room took it
 * client.on("state", (state) => showConnection(state)); // connecting, open, reconnecting, closed
 * ```
 */
export { connect, ConnectionState, RookeryClient } from "./client";
export type { ClientEvents } from "./client";
export { Room, RoomStatus } from "./room";
export type { EventsOf, MessagesOf, ResultOf, RoomEventInfo, RoomEvents } from "./room";
export {
  ClientClosedError,
  ConnectionLostError,
  DiscoveryError,
  InputTimeoutError,
  QueueFullError,
  RoomLeftError,
  SeqExpiredError,
} from "./errors";
export { ClientOptionsError, defaultClientOptions, resolveClientOptions } from "./options";
export type {
  ClientOptions,
  ResolvedClientOptions,
  TokenSource,
  WebSocketConstructor,
  WebSocketLike,
} from "./options";
export { ProtocolError, ErrorCode } from "@rookery/protocol";
