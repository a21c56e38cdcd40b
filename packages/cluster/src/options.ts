/** Settings shared by every cluster component of one process. */
export interface ClusterOptions {
  /** Namespace of every bucket, stream and subject; tests use one per test. @default "rk" */
  prefix?: string;
  /** Replicas of every bucket and stream (1 in development, 3 on a 3-server cluster). @default 1 */
  replicas?: number;
  /** Heartbeat TTL: a process is dead once its key is this old. @default 3000 */
  heartbeatTtlMs?: number;
  /** Wait after a watched key misses its deadline before confirming with a read. @default 100 */
  expiryGraceMs?: number;
  /** Stop owned work this long before our heartbeat key can expire on the server. @default 500 */
  failStopMarginMs?: number;
  /** Timeout of one KV operation. @default 1000 */
  opTimeoutMs?: number;
  /**
   * Placement tags of the heartbeat buckets, one per NATS server (`server_tags`).
   * Empty: a single heartbeat bucket with `replicas` replicas (development).
   * Given: one single-replica bucket per tag and heartbeats by majority, so
   * losing a server never stalls liveness behind a stream leader election.
   * @default []
   */
  heartbeatTags?: string[];
}

export interface ResolvedClusterOptions {
  prefix: string;
  replicas: number;
  heartbeatTtlMs: number;
  heartbeatIntervalMs: number;
  expiryGraceMs: number;
  failStopMarginMs: number;
  opTimeoutMs: number;
  heartbeatTags: string[];
}

export function defaultClusterOptions(): Required<ClusterOptions> {
  return {
    prefix: "rk",
    replicas: 1,
    heartbeatTtlMs: 3000,
    expiryGraceMs: 100,
    failStopMarginMs: 500,
    opTimeoutMs: 1000,
    heartbeatTags: [],
  };
}

export function resolveClusterOptions(options: ClusterOptions = {}): ResolvedClusterOptions {
  const merged = { ...defaultClusterOptions(), ...stripUndefined(options) };
  if (merged.heartbeatTtlMs < 300) throw new RangeError("heartbeatTtlMs must be >= 300");
  if (merged.heartbeatTags.length === 2) {
    throw new RangeError(
      "heartbeatTags needs 1 or at least 3 tags: 2 buckets have no useful majority",
    );
  }
  if (merged.failStopMarginMs >= merged.heartbeatTtlMs / 2) {
    throw new RangeError("failStopMarginMs must be below heartbeatTtlMs / 2");
  }
  const heartbeatIntervalMs = Math.floor(merged.heartbeatTtlMs / 3);
  // A heartbeat that takes longer than one interval is as good as missed.
  const opTimeoutMs = Math.min(merged.opTimeoutMs, heartbeatIntervalMs);
  return { ...merged, heartbeatTags: [...merged.heartbeatTags], heartbeatIntervalMs, opTimeoutMs };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
