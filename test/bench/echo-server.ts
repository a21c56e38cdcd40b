/**
 * Baselines for the gateway benchmark, in a process of their own like the
 * gateway: a raw `ws` echo server and a raw NATS request/reply responder.
 * Prints `{"event":"ready","port":N}`.
 */
import { connect } from "@nats-io/transport-node";
import { WebSocketServer } from "ws";

const nc = await connect({ servers: process.env.NATS_URL });
nc.subscribe("bench.echo", { callback: (_err, msg) => void msg.respond(msg.data) });
const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
wss.on("connection", (ws) => ws.on("message", (data) => ws.send(data as Buffer)));
await new Promise((resolve) => wss.once("listening", resolve));
console.log(JSON.stringify({ event: "ready", port: (wss.address() as { port: number }).port }));
