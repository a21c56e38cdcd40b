import type { NatsConnection } from "@nats-io/transport-node";
import type { Inbound, Served, Transport } from "../transport";

/** The runtime's messaging on a NATS connection (core NATS: no JetStream). */
export class NatsTransport implements Transport {
  constructor(private readonly nc: NatsConnection) {}

  subscribe(subject: string, handler: (msg: Inbound) => void, queue?: string): Served {
    const callback = (_err: unknown, msg: Inbound) => handler(msg);
    return this.nc.subscribe(subject, queue === undefined ? { callback } : { queue, callback });
  }

  publish(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return (await this.nc.request(subject, data, { timeout: timeoutMs })).data;
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }
}
