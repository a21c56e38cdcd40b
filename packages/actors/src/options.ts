/** Settings of the actor runtime on one node. */
export interface RuntimeOptions {
  /** A handler running longer is interrupted and its input rejected. 0 disables. @default 250 */
  handlerBudgetMs?: number;
  /** Durable rooms write a snapshot after this many journaled entries. @default 200 */
  snapshotEvery?: number;
  /** Durable rooms also snapshot once no input came for this long (0 = never). @default 250 */
  quietSnapshotMs?: number;
  /** Ephemeral rooms write a snapshot this often when changed. @default 1000 */
  snapshotMs?: number;
  /** Events kept per room for resume after reconnect. @default 1000 */
  replayBuffer?: number;
  /** A room with no request for this long (and no timer or tick) is passivated. 0 = never. @default 60000 */
  idleMs?: number;
  /** Most rooms this node hosts; placements beyond are declined. @default 50000 */
  capacity?: number;
  /** Activations in flight at once (placement and re-homing). @default 64 */
  activationConcurrency?: number;
  /**
   * A journal append failing transiently (a stream leader election, a
   * timeout) is retried this long before the room stops. @default 15000
   */
  journalRetryMs?: number;
  /**
   * Purge journal messages a snapshot covers: `auto` does so unless the
   * server is clustered and older than 2.9.18, where a restarted server
   * replays a subject-filtered purge as a purge of the whole stream up to
   * that point (nats-server issue 4196), losing other rooms' journal
   * entries. @default "auto"
   */
  journalPurge?: "auto" | "always" | "never";
  /** Input outcomes remembered per member for resends (docs/protocol.md §6). @default 32 */
  dedupeWindow?: number;
  /** Decline a placement while another node hosts this many rooms fewer (or 10% fewer). @default 8 */
  placementSlack?: number;
}

export type ResolvedRuntimeOptions = Required<RuntimeOptions>;

export function defaultRuntimeOptions(): ResolvedRuntimeOptions {
  return {
    handlerBudgetMs: 250,
    snapshotEvery: 200,
    quietSnapshotMs: 250,
    snapshotMs: 1000,
    replayBuffer: 1000,
    idleMs: 60_000,
    capacity: 50_000,
    activationConcurrency: 64,
    placementSlack: 8,
    journalRetryMs: 15_000,
    journalPurge: "auto",
    dedupeWindow: 32,
  };
}

export function resolveRuntimeOptions(options: RuntimeOptions = {}): ResolvedRuntimeOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...defaultRuntimeOptions(), ...defined };
}
