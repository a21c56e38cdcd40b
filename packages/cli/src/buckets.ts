import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV, type KvEntry } from "@nats-io/kv";
import { clusterNames, type ClusterNames } from "@rookery/cluster";

export const BUCKETS = ["nodes", "leases", "presence", "state"] as const;
export type BucketAlias = (typeof BUCKETS)[number];

export class BucketMissingError extends Error {
  readonly code = "BUCKET_MISSING";
  override readonly name = "BucketMissingError";
  constructor(bucket: string, options?: ErrorOptions) {
    super(`bucket ${bucket} not found: is Rookery running with this --prefix?`, options);
  }
}

/** Opens existing buckets read-only; the CLI never creates anything. */
export class BucketReader {
  readonly names: ClusterNames;
  readonly #kvm: Kvm;

  constructor(nc: NatsConnection, prefix: string) {
    this.names = clusterNames(prefix);
    this.#kvm = new Kvm(jetstream(nc, { timeout: 5000 }));
  }

  bucketName(alias: BucketAlias): string {
    const map = {
      nodes: this.names.nodesBucket,
      leases: this.names.leasesBucket,
      presence: this.names.presenceBucket,
      state: this.names.stateBucket,
    };
    return map[alias];
  }

  async open(alias: BucketAlias): Promise<KV> {
    const name = this.bucketName(alias);
    try {
      const kv = await this.#kvm.open(name);
      await kv.status(); // open() is lazy: make a missing bucket fail here, by name
      return kv;
    } catch (cause) {
      throw new BucketMissingError(name, { cause });
    }
  }

  /** Every current value under `filter` (a key or wildcard), skipping deleted keys. */
  async entries(alias: BucketAlias, filter = ">"): Promise<KvEntry[]> {
    const kv = await this.open(alias);
    const keys: string[] = [];
    for await (const key of await kv.keys(filter)) keys.push(key);
    const entries = await Promise.all(keys.map((k) => kv.get(k)));
    return entries.filter((e): e is KvEntry => e?.operation === "PUT");
  }
}
