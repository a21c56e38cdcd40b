import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { HotCounter, HotHistogram } from "@rookery/cluster/internal";

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
  // Per frame, per event and per request: recorded as plain numbers (HotCounter, HotHistogram).
  readonly framesIn = new HotCounter(
    "rookery_gateway_frames_in_total",
    "Frames received from clients, by kind (invalid: rejected before a kind was known)",
    "kind",
  ).register(this.registry);
  readonly framesOut = new HotCounter(
    "rookery_gateway_frames_out_total",
    "Frames sent to clients, by kind",
    "kind",
  ).register(this.registry);
  readonly errors = new HotCounter(
    "rookery_gateway_errors_total",
    "Error frames sent to clients, by code",
    "code",
  ).register(this.registry);
  readonly closes = new Counter({
    name: "rookery_gateway_closes_total",
    help: "Connections closed by the gateway, by WebSocket close code",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly fanoutSeconds = new HotHistogram(
    "rookery_gateway_fanout_seconds",
    "Time to hand one room event to every local member's socket",
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
  ).register(this.registry);
  readonly roundTripSeconds = new HotHistogram(
    "rookery_gateway_room_request_seconds",
    "Time from forwarding a join, leave or input to the room's reply (placement included)",
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2, 5],
    "kind",
  ).register(this.registry);
  readonly roomRequests = new HotCounter(
    "rookery_gateway_room_requests_total",
    "Room requests by path: local (the room is in this process, no NATS) or nats",
    "path",
  ).register(this.registry);

  /** Counts a room request by the path it took. */
  roomRequest(local: boolean): void {
    this.roomRequests.inc(local ? "local" : "nats");
  }

  /** Counts a received frame. */
  frameIn(kind: string): void {
    this.framesIn.inc(kind);
  }

  /** Counts a sent frame (per frame and per socket on fan-out). */
  frameOut(kind: string): void {
    this.framesOut.inc(kind);
  }

  /** Counts an error frame sent to a client. */
  error(code: string): void {
    this.errors.inc(code);
  }

  /** Records how long a room took to answer a forwarded request. */
  roundTrip(kind: string, seconds: number): void {
    this.roundTripSeconds.observe(seconds, kind);
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
