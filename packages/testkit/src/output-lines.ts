/** Line-wise capture of child process output. */
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** Calls `onLine` for every line of `stream`. */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", onLine);
}

/** Keeps the first and the last lines pushed, for error messages: causes come first, deaths last. */
export class LineTail {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  readonly #head: string[] = [];
  readonly #tail: string[] = [];
  #skipped = 0;

  constructor(tailLimit = 30, headLimit = 10) {
    this.#tailLimit = tailLimit;
    this.#headLimit = headLimit;
  }

  push(line: string): void {
    if (this.#head.length < this.#headLimit) {
      this.#head.push(line);
      return;
    }
    this.#tail.push(line);
    if (this.#tail.length > this.#tailLimit) {
      this.#tail.shift();
      this.#skipped++;
    }
  }

  /** The kept lines as an indented block, or "" when there are none. */
  format(label: string): string {
    const gap = this.#skipped > 0 ? [`… ${this.#skipped} lines …`] : [];
    const lines = [...this.#head, ...gap, ...this.#tail];
    if (lines.length === 0) return "";
    return `\n${label}:\n${lines.map((l) => `  ${l}`).join("\n")}`;
  }
}

/** An indented block of the last `limit` lines of `text`, or "" when empty. */
export function formatTail(label: string, text: string, limit = 20): string {
  const tail = new LineTail(limit, 0);
  for (const line of text.split("\n")) if (line.trim() !== "") tail.push(line);
  return tail.format(label);
}
