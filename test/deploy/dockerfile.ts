/**
 * Reads deploy/Dockerfile the way the image smoke test needs it: the
 * instructions of each stage, and the runtime stage's file set reproduced in
 * a folder without Docker (COPY lines from the build context, or from the
 * build stage, which is this checkout after `npm run build`).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";

export interface Instruction {
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Stages of a Dockerfile, with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Stage[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    lines.push(pending + line);
    pending = "";
  }
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === "FROM") {
      const [from = "", , name] = args.split(/\s+/);
      stages.push({ name: name ?? String(stages.length), from, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push({ op: upper, args });
    }
  }
  return stages;
}

/** `["a", "b"]` (exec form) or `a b` (shell form) as a list of words. */
export function words(args: string): string[] {
  const text = args.trim();
  if (text.startsWith("[")) return JSON.parse(text) as string[];
  return text.split(/\s+/).filter(Boolean);
}

/** `ENV A=1 B=2` of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage.instructions) {
    if (op !== "ENV") continue;
    for (const pair of words(args)) {
      const eq = pair.indexOf("=");
      if (eq > 0) env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, "$1");
    }
  }
  return env;
}

/** `.dockerignore` patterns as regular expressions over context-relative paths. */
export function dockerignore(root: string): RegExp[] {
  const file = join(root, ".dockerignore");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.startsWith("!"))
    .map((pattern) => {
      const body = pattern
        .replace(/^\//, "")
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*\*\//g, "(?:.*/)?")
        .replace(/\*/g, "[^/]*");
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}

/**
 * Copies the files of `stage`'s COPY lines into `dir` (its WORKDIR). Sources
 * without `--from` come from the build context (`root`, minus
 * .dockerignore); `--from=<stage>` sources, absolute paths under that
 * stage's WORKDIR, come from `root` too: the build stage copies the whole
 * context there and builds in place, as `npm run build` does here.
 * Returns the copied sources, for messages.
 */
export function reproduceCopies(
  stage: Stage,
  stages: Stage[],
  root: string,
  dir: string,
): string[] {
  const ignored = dockerignore(root);
  const copied: string[] = [];
  let workdir = "/";
  for (const { op, args } of stage.instructions) {
    if (op === "WORKDIR") workdir = args.trim();
    if (op !== "COPY") continue;
    const parts = words(args);
    const flags = parts.filter((p) => p.startsWith("--"));
    const paths = parts.filter((p) => !p.startsWith("--"));
    const dest = paths.pop()!;
    const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
    for (const source of paths) {
      let relative: string;
      if (from) {
        const origin = stages.find((s) => s.name === from);
        if (!origin) throw new Error(`COPY --from=${from}: no such stage`);
        const originWorkdir = origin.instructions.findLast((i) => i.op === "WORKDIR")?.args.trim();
        if (
          !origin.instructions.some((i) => i.op === "COPY" && words(i.args).join(" ") === ". .")
        ) {
          throw new Error(`stage ${from} must COPY . . (the smoke test builds in this checkout)`);
        }
        if (!originWorkdir || !source.startsWith(`${originWorkdir}/`)) {
          throw new Error(`COPY --from=${from} ${source}: not under its WORKDIR ${originWorkdir}`);
        }
        relative = source.slice(originWorkdir.length + 1);
      } else {
        relative = source.replace(/^\.\//, "");
        if (ignored.some((re) => re.test(relative))) {
          throw new Error(`COPY ${source}: excluded by .dockerignore`);
        }
      }
      const from_ = join(root, relative);
      if (!existsSync(from_)) throw new Error(`COPY ${source}: ${from_} does not exist`);
      // `dir` stands for the stage's WORKDIR.
      if (dest.startsWith("/") && !`${dest}/`.startsWith(`${workdir}/`)) {
        throw new Error(`COPY to ${dest}: outside the WORKDIR ${workdir}`);
      }
      const destDir = join(dir, dest.startsWith("/") ? dest.slice(workdir.length) : dest);
      const target =
        statSync(from_).isDirectory() || !(dest.endsWith("/") || dest === "." || dest === "./")
          ? destDir
          : join(destDir, basename(relative));
      mkdirSync(statSync(from_).isDirectory() ? target : join(target, ".."), { recursive: true });
      cpSync(from_, target, { recursive: true });
      copied.push(relative);
    }
  }
  return copied;
}
