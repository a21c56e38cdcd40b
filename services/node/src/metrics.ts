import { createServer, type Server } from "node:http";
import type { NatsConnection } from "@nats-io/transport-node";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ActorHost } from "@rookery/actors";
import type { ClusterMember } from "@rookery/cluster";
import { HotHistogram } from "@rookery/cluster/internal";

/** Version reported by `rookery_node_build_info` (the workspace's version). */
export const NODE_VERSION = "0.1.0";

/** Reasons a room stops, as the bounded values of the `reason` label. */
const STOP_REASONS = new Set([
  "drain",
  "idle",
  "move",
  "fail-stop",
  "activation failed",
  "journal",
  "snapshot",
]);

/**
 * Prometheus metrics of one node, served as text on `/metrics`. Every family
 * is `rookery_node_*` (the gateway's are `rookery_gateway_*`); labels take a
 * few fixed values only. docs/operations.md lists them.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly activations = this.#counter("room_activations_total", "Room activations on this node");
  readonly activationSeconds = new Histogram({
    name: "rookery_node_room_activation_seconds",
    help: "Time from placement to a serving room (lease, load, replay, fence)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly stops = this.#counter(
    "room_stops_total",
    "Rooms that stopped on this node, by reason (drain, idle, move: handed over; the others lost their lease)",
    ["reason"],
  );
  readonly leaseLosses = this.#counter(
    "lease_losses_total",
    "Rooms stopped without a handover: lease lost or fenced out, by cause (journal or snapshot write fenced or failed, fail-stop, activation failed)",
    ["cause"],
  );
  // Per journal append and per mailbox turn: plain numbers (HotHistogram), read on scrape.
  readonly journalSeconds = new HotHistogram(
    "rookery_node_journal_append_seconds",
    "Latency of one fenced journal append (one group-committed batch)",
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
  ).register(this.registry);
  readonly journalBatch = new HotHistogram(
    "rookery_node_journal_batch_entries",
    "Entries per journal append (group commit)",
    [1, 2, 4, 8, 16, 32, 64, 128],
  ).register(this.registry);
  readonly handlerSeconds = new HotHistogram(
    "rookery_node_handler_seconds",
    "Time one room's mailbox turn spent in its handlers",
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025, 0.1, 0.25, 1],
  ).register(this.registry);
  readonly budgetInterruptions = this.#counter(
    "handler_budget_interruptions_total",
    "Handler calls cut off by the handler time budget (their input rejected)",
  );
  readonly placements = this.#counter(
    "placements_total",
    "Placement requests answered, by outcome (placed here, owner elsewhere, declined for a lighter node, full, bad)",
    ["outcome"],
  );
  readonly rehomeSeconds = new Histogram({
    name: "rookery_node_rehome_seconds",
    help: "Time to re-activate here the rooms of a dead node (lease scan and activations)",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly rehomedRooms = this.#counter(
    "rehomed_rooms_total",
    "Rooms of dead nodes re-activated here",
  );
  readonly heartbeatFailures = this.#counter(
    "heartbeat_failstops_total",
    "Fail-stops of this node's heartbeat, by reason (heartbeat-missed, superseded)",
    ["reason"],
  );
  readonly natsReconnects = this.#counter(
    "nats_reconnects_total",
    "Reconnections of this node's NATS connections, by connection (data, control)",
    ["connection"],
  );
  readonly natsDisconnects = this.#counter(
    "nats_disconnects_total",
    "Disconnections of this node's NATS connections, by connection (data, control)",
    ["connection"],
  );
  readonly drains = this.#counter(
    "drains_total",
    "Operator drains of this node (rookery drain), by phase (started, finished)",
    ["phase"],
  );
  #server: Server | undefined;
  #closed = false;

  constructor(host: ActorHost) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "rookery_node_build_info",
      help: "Always 1; the labels name the version and runtime of this node",
      labelNames: ["version", "node_version"],
      registers: [this.registry],
    }).set({ version: NODE_VERSION, node_version: process.version }, 1);
    new Gauge({
      name: "rookery_node_rooms_active",
      help: "Rooms active on this node",
      registers: [this.registry],
      collect() {
        this.set(host.size);
      },
    });
    new Gauge({
      name: "rookery_node_draining",
      help: "1 while an operator drain holds this node (it takes no placement)",
      registers: [this.registry],
      collect() {
        this.set(host.draining ? 1 : 0);
      },
    });
    new Gauge({
      name: "rookery_node_mailbox_depth",
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
    host.on("stopped", (_actor, reason) => {
      const label = reason.split(":")[0] ?? reason;
      this.stops.inc({ reason: STOP_REASONS.has(label) ? label : "other" });
      if (label === "drain" || label === "idle" || label === "move") return;
      this.leaseLosses.inc({ cause: STOP_REASONS.has(label) ? label : "other" });
    });
    host.on("handled", (ms, interrupted) => {
      this.handlerSeconds.observe(ms / 1000);
      if (interrupted) this.budgetInterruptions.inc();
    });
    host.on("placement", (outcome) => this.placements.inc({ outcome }));
    host.on("rehomed", (_dead, rooms, ms) => {
      this.rehomeSeconds.observe(ms / 1000);
      this.rehomedRooms.inc(rooms);
    });
    host.on("drain", (phase) => this.drains.inc({ phase }));
  }

  /** Counts the fail-stops of this node's heartbeat. */
  watchMember(member: ClusterMember): void {
    member.heartbeat.on("failstop", (reason) => this.heartbeatFailures.inc({ reason }));
  }

  /** Counts disconnections and reconnections of one NATS connection. */
  watchConnection(nc: NatsConnection, connection: "data" | "control"): void {
    void (async () => {
      for await (const status of nc.status()) {
        if (this.#closed) return;
        if (status.type === "reconnect") this.natsReconnects.inc({ connection });
        else if (status.type === "disconnect") this.natsDisconnects.inc({ connection });
      }
    })().catch(() => undefined);
  }

  #counter(name: string, help: string, labelNames: string[] = []): Counter {
    return new Counter({
      name: `rookery_node_${name}`,
      help,
      labelNames,
      registers: [this.registry],
    });
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
    this.#closed = true;
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
