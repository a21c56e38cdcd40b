import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Version reported by `rookery_gateway_build_info` (the workspace's version). */
export const GATEWAY_VERSION = "0.1.0";

/** What the metrics read from the gateway when scraped. */
export interface GatewayGauges {
  connections: () => number;
  rooms: () => number;
}

/** Prometheus metrics of one gateway, served as text on `/metrics`. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly framesIn = new Counter({
    name: "rookery_gateway_frames_in_total",
    help: "Frames received from clients, by kind (invalid: rejected before a kind was known)",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly framesOut = new Counter({
    name: "rookery_gateway_frames_out_total",
    help: "Frames sent to clients, by kind",
    labelNames: ["kind"],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "rookery_gateway_errors_total",
    help: "Error frames sent to clients, by code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly closes = new Counter({
    name: "rookery_gateway_closes_total",
    help: "Connections closed by the gateway, by WebSocket close code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly fanoutSeconds = new Histogram({
    name: "rookery_gateway_fanout_seconds",
    help: "Time to hand one room event to every local member's socket",
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly roundTripSeconds = new Histogram({
    name: "rookery_gateway_room_request_seconds",
    help: "Time from forwarding a join, leave or input to the room's reply (placement included)",
    labelNames: ["kind"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2, 5],
    registers: [this.registry],
  });

  readonly roomRequests = new Counter({
    name: "rookery_gateway_room_requests_total",
    help: "Room requests by path: local (the room is in this process, no NATS) or nats",
    labelNames: ["path"],
    registers: [this.registry],
  });
  readonly #local = this.roomRequests.labels("local");
  readonly #nats = this.roomRequests.labels("nats");

  /** Counts a room request by the path it took. */
  roomRequest(local: boolean): void {
    (local ? this.#local : this.#nats).inc();
  }

  // Label children are cached: these run per frame, and a label lookup per call adds up.
  readonly #in = new Map<string, Counter.Internal>();
  readonly #out = new Map<string, Counter.Internal>();
  readonly #errors = new Map<string, Counter.Internal>();
  readonly #roundTrips = new Map<string, Histogram.Internal<"kind">>();

  /** Counts a received frame. */
  frameIn(kind: string): void {
    cached(this.#in, kind, (k) => this.framesIn.labels(k)).inc();
  }

  /** Counts a sent frame (per frame and per socket on fan-out). */
  frameOut(kind: string): void {
    cached(this.#out, kind, (k) => this.framesOut.labels(k)).inc();
  }

  /** Counts an error frame sent to a client. */
  error(code: string): void {
    cached(this.#errors, code, (c) => this.errors.labels(c)).inc();
  }

  /** Records how long a room took to answer a forwarded request. */
  roundTrip(kind: string, seconds: number): void {
    cached(this.#roundTrips, kind, (k) => this.roundTripSeconds.labels(k)).observe(seconds);
  }

  constructor(gauges: GatewayGauges) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "rookery_gateway_build_info",
      help: "Always 1; the labels name the version and runtime of this gateway",
      labelNames: ["version", "node_version"],
      registers: [this.registry],
    }).set({ version: GATEWAY_VERSION, node_version: process.version }, 1);
    new Gauge({
      name: "rookery_gateway_connections",
      help: "Open client connections (authenticated or not)",
      registers: [this.registry],
      collect() {
        this.set(gauges.connections());
      },
    });
    new Gauge({
      name: "rookery_gateway_rooms",
      help: "Rooms with local members (one event subscription each)",
      registers: [this.registry],
      collect() {
        this.set(gauges.rooms());
      },
    });
  }
}

function cached<C>(children: Map<string, C>, label: string, make: (label: string) => C): C {
  let child = children.get(label);
  if (child === undefined) children.set(label, (child = make(label)));
  return child;
}
