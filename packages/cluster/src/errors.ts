import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";

/**
 * Every failure the cluster layer reports, one class per failure, each with a
 * stable `code` (documented in docs/cluster.md) and the original `cause` kept.
 */
export const ClusterErrorCode = {
  JetStreamUnavailable: "JETSTREAM_UNAVAILABLE",
  BucketIncompatible: "BUCKET_INCOMPATIBLE",
  OwnershipLost: "OWNERSHIP_LOST",
  FailStopped: "FAIL_STOPPED",
  LeaseHeld: "LEASE_HELD",
  InvalidRecord: "INVALID_RECORD",
  InvalidName: "INVALID_NAME",
  NotStarted: "NOT_STARTED",
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

export const clusterErrorDescriptions: Record<ClusterErrorCode, string> = {
  JETSTREAM_UNAVAILABLE: "The NATS server has JetStream disabled or unreachable.",
  BUCKET_INCOMPATIBLE: "A bucket or stream exists with settings Rookery cannot use.",
  OWNERSHIP_LOST: "A fenced write failed its condition: another owner wrote since.",
  FAIL_STOPPED: "This process missed its heartbeat deadline and stopped what it owned.",
  LEASE_HELD: "The room lease is held by another live process.",
  INVALID_RECORD: "A bucket value could not be decoded as the expected record.",
  INVALID_NAME: "A room type, room id or process id is not a valid token.",
  NOT_STARTED: "The component was used before start() or after stop().",
};

export abstract class ClusterError extends Error {
  abstract readonly code: ClusterErrorCode;
}

export class JetStreamUnavailableError extends ClusterError {
  readonly code = ClusterErrorCode.JetStreamUnavailable;
  override readonly name = "JetStreamUnavailableError";
  constructor(options?: ErrorOptions) {
    super("JetStream is not enabled on the NATS server (start it with -js)", options);
  }
}

export class BucketIncompatibleError extends ClusterError {
  readonly code = ClusterErrorCode.BucketIncompatible;
  override readonly name = "BucketIncompatibleError";
  constructor(
    readonly bucket: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`bucket ${bucket} exists with incompatible settings: ${detail}`, options);
  }
}

export class OwnershipLostError extends ClusterError {
  readonly code = ClusterErrorCode.OwnershipLost;
  override readonly name = "OwnershipLostError";
  constructor(
    readonly target: string,
    options?: ErrorOptions,
  ) {
    super(`ownership of ${target} lost: a fenced write failed its condition`, options);
  }
}

export class FailStoppedError extends ClusterError {
  readonly code = ClusterErrorCode.FailStopped;
  override readonly name = "FailStoppedError";
  constructor(readonly target: string) {
    super(`refusing to write ${target}: this process is past its heartbeat deadline`);
  }
}

export class LeaseHeldError extends ClusterError {
  readonly code = ClusterErrorCode.LeaseHeld;
  override readonly name = "LeaseHeldError";
  constructor(
    readonly key: string,
    readonly owner: string,
  ) {
    super(`lease ${key} is held by ${owner}`);
  }
}

export class InvalidRecordError extends ClusterError {
  readonly code = ClusterErrorCode.InvalidRecord;
  override readonly name = "InvalidRecordError";
  constructor(
    readonly key: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`invalid record at ${key}: ${detail}`, options);
  }
}

export class InvalidNameError extends ClusterError {
  readonly code = ClusterErrorCode.InvalidName;
  override readonly name = "InvalidNameError";
  constructor(
    readonly value: string,
    readonly what: string,
    options?: ErrorOptions,
  ) {
    super(`invalid ${what}: ${JSON.stringify(value)}`, options);
  }
}

export class NotStartedError extends ClusterError {
  readonly code = ClusterErrorCode.NotStarted;
  override readonly name = "NotStartedError";
  constructor(what: string) {
    super(`${what} is not started`);
  }
}

/** True when a JetStream publish failed its expected-last-sequence condition. */
export function isWrongLastSequence(err: unknown): boolean {
  if (!(err instanceof JetStreamApiError)) return false;
  const { StreamWrongLastSequence, StreamWrongLastSequenceUnknown } = JetStreamApiCodes;
  return err.code === StreamWrongLastSequence || err.code === StreamWrongLastSequenceUnknown;
}
