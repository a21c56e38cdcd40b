import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ActorHost } from "@rookery/actors";

/** Prometheus metrics of one node, served as text on `/metrics`. */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly activations = new Counter({
    name: "rookery_room_activations_total",
    help: "Room activations on this node",
    registers: [this.registry],
  });
  readonly activationSeconds = new Histogram({
    name: "rookery_room_activation_seconds",
    help: "Time from placement to a serving room (lease, load, replay, fence)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly stops = new Counter({
    name: "rookery_room_stops_total",
    help: "Rooms that stopped on this node, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly journalSeconds = new Histogram({
    name: "rookery_journal_append_seconds",
    help: "Latency of one fenced journal append (one group-committed batch)",
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly journalBatch = new Histogram({
    name: "rookery_journal_batch_entries",
    help: "Entries per journal append (group commit)",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128],
    registers: [this.registry],
  });
  #server: Server | undefined;

  constructor(host: ActorHost) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "rookery_rooms_active",
      help: "Rooms active on this node",
      registers: [this.registry],
      collect() {
        this.set(host.size);
      },
    });
    new Gauge({
      name: "rookery_mailbox_depth",
      help: "Requests applied and waiting for their journal append, over all rooms",
      registers: [this.registry],
      collect() {
        this.set(host.mailboxDepth);
      },
    });
    host.on("journaled", (ms, entries) => {
      this.journalSeconds.observe(ms / 1000);
      this.journalBatch.observe(entries);
    });
    host.on("activated", (_actor, ms) => {
      this.activations.inc();
      this.activationSeconds.observe(ms / 1000);
    });
    host.on("stopped", (_actor, reason) =>
      this.stops.inc({ reason: reason.split(":")[0] ?? reason }),
    );
  }

  /** Serves `/metrics`; port 0 picks a free port. Resolves with the bound port. */
  listen(port: number): Promise<number> {
    this.#server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    return new Promise((resolve, reject) => {
      this.#server!.once("error", reject);
      this.#server!.listen(port, "0.0.0.0", () => {
        const address = this.#server!.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
