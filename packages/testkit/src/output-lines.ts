/** Line-wise capture of child process output. */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** Calls `onLine` for every line of `stream`. */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/** Keeps only the last `limit` lines pushed, for error messages. */
export class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];

  constructor(limit = 40) {
    this.#limit = limit;
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }

  /** The kept lines as an indented block, or "" when there are none. */
  format(label: string): string {
    if (this.#lines.length === 0) return "";
    return `\n${label}:\n${this.#lines.map((l) => `  ${l}`).join("\n")}`;
  }
}

/** An indented block of the last `limit` lines of `text`, or "" when empty. */
export function formatTail(label: string, text: string, limit = 20): string {
  const tail = new LineTail(limit);
  for (const line of text.split("\n")) if (line.trim() !== "") tail.push(line);
  return tail.format(label);
}
