import type { NatsConnection, Status } from "@nats-io/transport-node";
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

  #denied(subject: string) {
    return permissionWatch(this.nc, subject);
  }

  async request<T extends ControlReply = ControlReply>(
    node: string,
    body: Record<string, unknown>,
    timeoutMs = 15_000,
  ): Promise<T> {
    let data: Uint8Array;
    const subject = this.#names.subjects.control(node);
    const denied = this.#denied(subject);
    try {
      const msg = await Promise.race([
        this.nc.request(subject, new TextEncoder().encode(JSON.stringify(body)), {
          timeout: timeoutMs,
        }),
        denied.promise,
      ]);
      data = msg.data;
    } catch (error) {
      throw new ControlError(explain(node, error as Error), { cause: error });
    } finally {
      denied.stop();
    }
    const reply = JSON.parse(new TextDecoder().decode(data)) as T;
    if (!reply.ok) throw new ControlError(`${node}: ${reply.error ?? "refused"}`);
    return reply;
  }
}

/** The server refuses a publish asynchronously: this turns its notice into a rejection. */
function permissionWatch(nc: NatsConnection, subject: string) {
  let stopped = false;
  const iter = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  const promise = new Promise<never>((_resolve, reject) => {
    void (async () => {
      for await (const status of iter) {
        if (stopped) return;
        const text = String((status as { error?: unknown }).error ?? "");
        if (status.type === "error" && /permission/i.test(text) && text.includes(subject)) {
          reject(new Error(`permissions violation: ${text}`));
          return;
        }
      }
    })();
  });
  promise.catch(() => undefined);
  return {
    promise,
    stop: () => {
      stopped = true;
      iter.stop?.();
    },
  };
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
