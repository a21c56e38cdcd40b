import type { BatchJob, HandlerBatch } from "./handler-batch";
import type { JournalEntry } from "./journal";
import type { Applied, Checkpoint, CoreEvent, RoomCore } from "./room-core";

/** Applies an entry inside a turn; the batch can undo it if the budget cuts the turn short. */
export type Apply = (entry: JournalEntry) => Applied;

/**
 * One mailbox turn: runs inside the handler budget, decides and applies
 * (through `apply`) and returns what to do once the batch is over.
 */
export type Turn = (apply: Apply) => () => void;

/**
 * Queues one mailbox turn of a room in the node's handler batch. `inBatch`
 * collects the events of the room's entries applied in the running batch
 * and not yet committed (a join later in the same batch must count them);
 * a rollback truncates exactly what the turn added to it.
 */
export function submitTurn(
  batch: HandlerBatch,
  core: RoomCore,
  inBatch: CoreEvent[][],
  turn: Turn,
  failed: (error: unknown) => void,
): void {
  let checkpoint: Checkpoint | undefined;
  let mark: number | undefined;
  const apply: Apply = (entry) => {
    checkpoint = core.checkpoint(entry);
    // Taken before the push, so a rollback cut anywhere truncates exactly what was added.
    mark = inBatch.length;
    const applied = core.apply(entry);
    inBatch.push(applied.events);
    return applied;
  };
  const job: BatchJob = {
    after: undefined,
    run: () => {
      job.after = turn(apply);
    },
    rollback: () => {
      if (checkpoint) core.restore(checkpoint);
      if (mark !== undefined) inBatch.length = mark;
      checkpoint = undefined;
      mark = undefined;
    },
    failed: (error) => () => failed(error),
  };
  batch.submit(job);
}
