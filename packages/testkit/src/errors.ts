/** Errors raised by the test kit. Each failure has its own class and a stable `code`. */

export class NatsServerNotFoundError extends Error {
  readonly code = "NATS_SERVER_NOT_FOUND";
  override readonly name = "NatsServerNotFoundError";
}

export class NatsServerStartError extends Error {
  readonly code = "NATS_SERVER_START";
  override readonly name = "NatsServerStartError";
}

export class NatsClusterStartError extends Error {
  readonly code = "NATS_CLUSTER_START";
  override readonly name = "NatsClusterStartError";
}

export class UntilTimeoutError extends Error {
  readonly code = "UNTIL_TIMEOUT";
  override readonly name = "UntilTimeoutError";
}

export class ChildSpawnError extends Error {
  readonly code = "CHILD_SPAWN";
  override readonly name = "ChildSpawnError";
}

export class ChildLineTimeoutError extends Error {
  readonly code = "CHILD_LINE_TIMEOUT";
  override readonly name = "ChildLineTimeoutError";
}

export class ChildExitedError extends Error {
  readonly code = "CHILD_EXITED";
  override readonly name = "ChildExitedError";
}
