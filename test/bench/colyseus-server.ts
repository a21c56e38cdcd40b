/**
 * The party queue of examples/src on Colyseus (the same logic, no schema
 * state), for the side-by-side benchmarks. Prints `{"event":"ready","port":N,"pid":P}`.
 *
 * Alone by default (local presence and driver, any free port). With
 * COLYSEUS_REDIS_PREFIX set, one of several processes as Colyseus documents
 * scaling: RedisPresence and RedisDriver on COLYSEUS_REDIS (default
 * 127.0.0.1:6379), every key under that prefix, listening on COLYSEUS_PORT
 * and announcing it as its `publicAddress`, so clients matchmade on any
 * process connect to the room's process.
 */
import { Room, Server, type Client, type ServerOptions } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";
import { RedisDriver } from "@colyseus/redis-driver";
import { RedisPresence } from "@colyseus/redis-presence";

interface Item {
  id: string;
  title: string;
  addedBy: string;
}

class PartyRoom extends Room {
  override maxClients = 100;
  #items: Item[] = [];
  #next = 1;

  override onCreate(): void {
    this.onMessage("add", (client: Client, body: { title: string }) => {
      const item = {
        id: `item-${this.#next++}`,
        title: String(body.title),
        addedBy: client.sessionId,
      };
      this.#items.push(item);
      this.broadcast("queue", { items: this.#items });
      client.send("ack", { id: item.id });
    });
    this.onMessage("remove", (client: Client, body: { id: string }) => {
      this.#items = this.#items.filter((i) => i.id !== body.id);
      this.broadcast("queue", { items: this.#items });
      client.send("ack", { id: body.id });
    });
    this.onMessage("bump", (client: Client) => client.send("ack", {}));
  }
}

const port = Number(process.env.COLYSEUS_PORT ?? 0);
const keyPrefix = process.env.COLYSEUS_REDIS_PREFIX;
const options: ServerOptions = {
  transport: new WebSocketTransport({ perMessageDeflate: false }),
  greet: false,
};
if (keyPrefix) {
  const [host, redisPort] = (process.env.COLYSEUS_REDIS ?? "127.0.0.1:6379").split(":");
  const redis = { host, port: Number(redisPort), keyPrefix };
  options.presence = new RedisPresence(redis);
  options.driver = new RedisDriver(redis);
  options.publicAddress = `127.0.0.1:${port}`;
}
const server = new Server(options);
server.define("party", PartyRoom);
await server.listen(port, "127.0.0.1");
const address = (
  server.transport as unknown as { server: { address(): { port: number } } }
).server.address();
console.log(JSON.stringify({ event: "ready", port: address.port, pid: process.pid }));
