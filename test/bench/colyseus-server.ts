/**
 * The party queue of examples/src on Colyseus (the same logic, no schema
 * state), for the side-by-side benchmark. Prints `{"event":"ready","port":N}`.
 */
import { Room, Server, type Client } from "@colyseus/core";
import { WebSocketTransport } from "@colyseus/ws-transport";

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

const server = new Server({
  transport: new WebSocketTransport({ perMessageDeflate: false }),
  greet: false,
});
server.define("party", PartyRoom);
await server.listen(0, "127.0.0.1");
const address = (
  server.transport as unknown as { server: { address(): { port: number } } }
).server.address();
console.log(JSON.stringify({ event: "ready", port: address.port }));
