import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const PUBLIC = fileURLToPath(new URL("../public/", import.meta.url));
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/**
 * The demo page's files (services/gateway/public). `demo.js` is bundled on
 * first request from `demo.ts` and the client SDK, with esbuild, so the page
 * runs the same SDK the tests use; the bundle is kept in memory.
 */
export class DemoAssets {
  #bundle: Promise<string> | undefined;

  /** The asset's content type and bytes, or undefined for unknown names (never a path join of user input). */
  async get(name: string): Promise<{ type: string; body: string | Buffer } | undefined> {
    if (!/^[a-z0-9-]+\.(html|js|css)$/.test(name)) return undefined;
    const type = TYPES[name.split(".").pop()!]!;
    if (name === "demo.js") return { type, body: await (this.#bundle ??= bundle()) };
    const path = `${PUBLIC}${name}`;
    return existsSync(path) ? { type, body: await readFile(path) } : undefined;
  }
}

async function bundle(): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [`${PUBLIC}demo.ts`],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // The SDK's Node fallback; browsers have a WebSocket of their own.
    external: ["ws"],
    write: false,
    minify: true,
  });
  return result.outputFiles[0]!.text;
}
