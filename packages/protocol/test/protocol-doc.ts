/**
 * Reads the tables of docs/protocol.md, so tests can hold the code (and a
 * real gateway) to what the document says: the error codes of §10, the
 * close codes of §11, the handshake failures of §3. A table that changes
 * shape fails here, loudly, rather than letting a test check nothing.
 */
import { readFileSync } from "node:fs";

export const PROTOCOL_DOC = new URL("../../../docs/protocol.md", import.meta.url);

export class ProtocolDocError extends Error {
  readonly code = "PROTOCOL_DOC_UNREADABLE";
  override readonly name = "ProtocolDocError";
}

/** One markdown table: its header cells and each row keyed by them. */
export interface DocTable {
  header: string[];
  rows: Record<string, string>[];
}

/** What a connection does after an error (a clause of the §10 "socket" column). */
export type Outcome = { open: true } | { close: number };

/** `stays open`, `closes 4003`, or `condition: outcome`. */
export interface SocketClause {
  /** The condition text before the colon; undefined for the general rule. */
  when: string | undefined;
  outcome: Outcome;
}

export interface ErrorRow {
  code: string;
  meaning: string;
  trigger: string;
  /** Empty for codes never sent on the wire (socket `—`). */
  socket: SocketClause[];
  budget: "yes" | "no" | "—";
}

export interface CloseRow {
  code: number;
  meaning: string;
  clientShould: string;
}

export interface HandshakeRow {
  failure: string;
  /** Undefined when the gateway sends no error frame (`—`). */
  error: string | undefined;
  close: number;
}

export function readProtocolDoc(): string {
  return readFileSync(PROTOCOL_DOC, "utf8");
}

/** The text of section `n` (`## n. …`), up to the next section. */
export function section(doc: string, n: number): string {
  const start = doc.search(new RegExp(`^## ${n}\\. `, "m"));
  if (start < 0) throw new ProtocolDocError(`docs/protocol.md has no section ${n}`);
  const rest = doc.slice(start + 3);
  const end = rest.search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Every table of a text, in order. */
export function tables(text: string): DocTable[] {
  const found: DocTable[] = [];
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!isRow(lines[i]!) || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[i + 1]!)) continue;
    const header = cells(lines[i]!);
    const rows: Record<string, string>[] = [];
    for (i += 2; i < lines.length && isRow(lines[i]!); i++) {
      const row = cells(lines[i]!);
      rows.push(Object.fromEntries(header.map((h, c) => [h, row[c] ?? ""])));
    }
    found.push({ header, rows });
  }
  return found;
}

/** The one table of section `n` whose header starts with `columns`. */
export function table(doc: string, n: number, columns: string[]): DocTable {
  const matching = tables(section(doc, n)).filter((t) =>
    columns.every((c, i) => t.header[i] === c),
  );
  if (matching.length !== 1) {
    throw new ProtocolDocError(
      `docs/protocol.md §${n}: expected one table with columns ${columns.join(" | ")}, found ${matching.length}`,
    );
  }
  return matching[0]!;
}

/** §10, the error codes. */
export function errorTable(doc = readProtocolDoc()): ErrorRow[] {
  const { rows } = table(doc, 10, ["code", "meaning", "triggered by", "socket", "budget"]);
  return rows.map((row) => ({
    code: unquote(row.code!),
    meaning: row.meaning!,
    trigger: row["triggered by"]!,
    socket: row.socket === "—" ? [] : socketClauses(row.socket!),
    budget: asBudget(row.budget!),
  }));
}

/** §11, the close codes. */
export function closeTable(doc = readProtocolDoc()): CloseRow[] {
  const { rows } = table(doc, 11, ["code", "meaning", "client should"]);
  return rows.map((row) => ({
    code: asCloseCode(row.code!),
    meaning: row.meaning!,
    clientShould: row["client should"]!,
  }));
}

/** §3, the handshake failures. */
export function handshakeTable(doc = readProtocolDoc()): HandshakeRow[] {
  const { rows } = table(doc, 3, ["failure", "error code", "close code"]);
  return rows.map((row) => ({
    failure: row.failure!,
    error: row["error code"] === "—" ? undefined : unquote(row["error code"]!),
    close: asCloseCode(row["close code"]!),
  }));
}

/**
 * The outcome a documented error has where `when` holds: the clause whose
 * condition contains `when`, or the general rule when `when` is undefined.
 */
export function documentedOutcome(row: ErrorRow, when?: string): Outcome {
  const clause = row.socket.find((c) =>
    when === undefined ? c.when === undefined : c.when?.includes(when),
  );
  if (!clause) {
    throw new ProtocolDocError(
      `docs/protocol.md §10 ${row.code}: no socket clause ${when === undefined ? "without a condition" : `for "${when}"`}`,
    );
  }
  return clause.outcome;
}

export function socketClauses(cell: string): SocketClause[] {
  return splitOutsideParens(cell, ";").map((clause) => {
    const colon = clause.indexOf(":");
    const when = colon < 0 ? undefined : clause.slice(0, colon).trim();
    const text = colon < 0 ? clause : clause.slice(colon + 1).trim();
    return { when, outcome: asOutcome(text, cell) };
  });
}

function asOutcome(text: string, cell: string): Outcome {
  if (text.startsWith("stays open")) return { open: true };
  const closes = /^closes (\d{4})\b/.exec(text);
  if (closes) return { close: Number(closes[1]) };
  throw new ProtocolDocError(
    `docs/protocol.md §10: unreadable socket clause "${text}" in "${cell}"`,
  );
}

function asBudget(cell: string): ErrorRow["budget"] {
  if (cell === "yes" || cell === "no" || cell === "—") return cell;
  throw new ProtocolDocError(`docs/protocol.md §10: budget must be yes, no or —, got "${cell}"`);
}

function asCloseCode(cell: string): number {
  if (!/^\d{4}$/.test(cell)) throw new ProtocolDocError(`not a close code: "${cell}"`);
  return Number(cell);
}

function unquote(cell: string): string {
  const match = /^`([A-Z_]+)`$/.exec(cell);
  if (!match) throw new ProtocolDocError(`not an error code: "${cell}"`);
  return match[1]!;
}

const isRow = (line: string) => line.startsWith("|") && line.trimEnd().endsWith("|");

/** Cells of a table row; `\|` is a pipe inside a cell. */
function cells(line: string): string[] {
  return line
    .trim()
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.replace(/\\\|/g, "|").trim());
}

function splitOutsideParens(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    if (text[i] === ")") depth--;
    if (text[i] === separator && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}
