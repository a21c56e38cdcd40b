/**
 * Module loader hooks (node:module `register`) that instrument room modules
 * as they load: see `instrumentRoomModules` in instrument.ts. They run on
 * Node's loader thread, after tsx's hooks have turned TypeScript into
 * JavaScript.
 */
import { instrumentSource } from "./instrument";

interface Data {
  /** The module whose dynamic imports are room modules (services/node load-rooms.ts). */
  importer: string;
}

interface Resolved {
  url: string;
  format?: string | null;
}
interface Loaded {
  format?: string | null;
  source?: string | ArrayBuffer | Uint8Array | null;
}
type Next<A, R> = (a: string, context: A) => Promise<R>;

let importer = "";
/** URLs of the modules to instrument: the room modules and what they import by relative path. */
const chosen = new Set<string>();

export function initialize(data: Data): void {
  importer = data.importer;
}

export async function resolve(
  specifier: string,
  context: { parentURL?: string },
  next: Next<{ parentURL?: string }, Resolved>,
): Promise<Resolved> {
  const result = await next(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !result.url.startsWith("file:")) return result;
  if (result.url.includes("/node_modules/")) return result;
  const relative = specifier.startsWith("./") || specifier.startsWith("../");
  // A room module itself (any specifier), or a module it imports by relative path: its own code.
  // Packages (bare specifiers, @rookery/* included) are library code and stay as they are.
  if (parent === importer || (relative && chosen.has(parent))) chosen.add(result.url);
  return result;
}

export async function load(
  url: string,
  context: { format?: string | null },
  next: Next<{ format?: string | null }, Loaded>,
): Promise<Loaded> {
  const result = await next(url, context);
  if (!chosen.has(url) || result.format !== "module" || result.source == null) return result;
  const source =
    typeof result.source === "string"
      ? result.source
      : Buffer.from(result.source as ArrayBuffer).toString("utf8");
  try {
    return { ...result, source: instrumentSource(source).code };
  } catch (error) {
    // Left as it was: its rooms are not marked, so they get the vm timeout instead.
    console.warn(JSON.stringify({ msg: "room module not instrumented", url, err: String(error) }));
    return result;
  }
}
