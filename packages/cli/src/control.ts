import type { NatsConnection } from "@nats-io/transport-node";
import { names } from "@rookery/protocol";

/** The reply of a node's control subject (packages/actors/src/host-control.ts). */
export interface ControlReply {
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

export interface DrainStatus extends ControlReply {
  node: string;
  draining: boolean;
  rooms: number;
  drain?: {
    startedAt: string;
    finishedAt?: string;
    total: number;
    moved: number;
    failed: number;
    recent: { ok: boolean; room: string; to?: string; ms: number; error?: string }[];
  };
}

export class ControlError extends Error {
  readonly code = "CONTROL_FAILED";
  override readonly name = "ControlError";
}

/** Requests to `<prefix>.ctl.<node>`: needs the admin NATS user (docs/security.md). */
export class ControlClient {
  readonly #names;
  constructor(
    private readonly nc: NatsConnection,
    prefix: string,
  ) {
    this.#names = names(prefix);
  }

  async request<T extends ControlReply = ControlReply>(
    node: string,
    body: Record<string, unknown>,
    timeoutMs = 15_000,
  ): Promise<T> {
    let data: Uint8Array;
    try {
      const msg = await this.nc.request(
        this.#names.subjects.control(node),
        new TextEncoder().encode(JSON.stringify(body)),
        { timeout: timeoutMs },
      );
      data = msg.data;
    } catch (error) {
      throw new ControlError(explain(node, error as Error), { cause: error });
    }
    const reply = JSON.parse(new TextDecoder().decode(data)) as T;
    if (!reply.ok) throw new ControlError(`${node}: ${reply.error ?? "refused"}`);
    return reply;
  }
}

function explain(node: string, error: Error): string {
  const text = `${error.name} ${error.message} ${String((error as { code?: unknown }).code ?? "")}`;
  if (/permission/i.test(text)) {
    return `not allowed to send to ${node}'s control subject: drain and move need the admin NATS user (--nkey admin.nk), not the read-only operator`;
  }
  if (/no ?responders|503/i.test(text)) {
    return `node ${node} does not answer: is it a live node (rookery nodes) of this --prefix?`;
  }
  if (/timeout/i.test(text)) return `node ${node} did not answer in time`;
  return `${node}: ${error.message}`;
}
