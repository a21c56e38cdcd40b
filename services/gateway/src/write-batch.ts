import type { Writable } from "node:stream";

/**
 * Coalesces the socket writes of one turn of the event loop. A room event
 * goes to many sockets, and a socket gets several frames a turn under load
 * (an ack and the events of a batch of inputs); written one by one, every
 * frame is its own syscall, which was the largest item of a loaded
 * gateway's CPU profile (docs/benchmarks.md). The first frame of a turn
 * corks its socket; one `setImmediate` uncorks every socket corked in the
 * turn, and each flushes its frames in one `writev`.
 *
 * Each frame stays its own WebSocket message, written in the order sent;
 * only the syscalls are merged. A frame sent after the connection closed is
 * never queued (`ws.send` is not called), and a socket destroyed while
 * corked discards what it held.
 */
export class WriteBatch {
  #corked = new Set<Writable>();

  /** Call before writing to `socket` this turn: it is corked until the turn ends. */
  hold(socket: Writable): void {
    const corked = this.#corked;
    if (corked.has(socket)) return;
    socket.cork();
    corked.add(socket);
    if (corked.size === 1) setImmediate(this.flush);
  }

  /** Writes out everything held (runs at the end of each turn that held a socket). */
  readonly flush = (): void => {
    const corked = this.#corked;
    if (corked.size === 0) return;
    this.#corked = new Set();
    // Uncorking a socket that ended or was destroyed meanwhile is a no-op.
    for (const socket of corked) socket.uncork();
  };
}
