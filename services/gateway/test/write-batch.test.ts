import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { until } from "@rookery/testkit";
import { WriteBatch } from "../src/write-batch";

interface Pair {
  server: WebSocket;
  socket: Duplex;
  client: WebSocket;
  received: Buffer[];
}

/** A real ws server and client on loopback; the server side's raw socket is kept, as the gateway keeps it. */
async function pair(servers: Server[]): Promise<Pair> {
  const http = createServer();
  servers.push(http);
  const wss = new WebSocketServer({ noServer: true });
  const accepted = new Promise<{ ws: WebSocket; socket: Duplex }>((resolve) => {
    http.on("upgrade", (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => resolve({ ws, socket })),
    );
  });
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const { port } = http.address() as { port: number };
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: Buffer[] = [];
  client.on("message", (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(true);
    received.push(data);
  });
  const { ws, socket } = await accepted;
  await once(client, "open");
  return { server: ws, socket, client, received };
}

const bytes = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

describe("write batch", () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  test("write batch - messages of every header size arrive whole, one message each, in order", async () => {
    const { server, socket, client, received } = await pair(servers);
    const batch = new WriteBatch();
    // Around each length encoding's limits: 7 bits, 16 bits, 64 bits.
    const sizes = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000, 3];
    const sent = sizes.map((n, i) => bytes(n, i));
    for (const payload of sent) batch.queue(server, socket, payload);
    expect(batch.pending(socket)).toBe(
      sizes.reduce((sum, n) => sum + n + (n < 126 ? 2 : n < 65_536 ? 4 : 10), 0),
    );
    await until(() => received.length === sent.length, 5000, "all messages");
    expect(received.map((b) => new Uint8Array(b))).toEqual(sent);
    expect(batch.pending(socket)).toBe(0);
    client.close();
  });

  test("write batch - a socket flushed before its close frame sends its frames first; nothing is written after close", async () => {
    const { server, socket, client, received } = await pair(servers);
    const batch = new WriteBatch();
    batch.queue(server, socket, bytes(10, 1));
    batch.queue(server, socket, bytes(20, 2));
    batch.flushSocket(socket);
    server.close(4000, "bye");
    // Queued after the close began: dropped, not written after the close frame.
    batch.queue(server, socket, bytes(30, 3));
    const [code] = (await once(client, "close")) as [number];
    expect(code).toBe(4000);
    expect(received.map((b) => b.length)).toEqual([10, 20]);
  });
});
