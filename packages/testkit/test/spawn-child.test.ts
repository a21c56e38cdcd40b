import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { ChildExitedError, ChildLineTimeoutError, ChildSpawnError, spawnChild } from "../src/index";

const script = fileURLToPath(new URL("./fixtures/child-script.ts", import.meta.url));

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("testkit - spawnChild", () => {
  test("testkit - spawnChild runs a TypeScript script and captures its stdout lines", async () => {
    await using child = await spawnChild({ script, env: { CHILD_LABEL: "alpha" } });
    expect(await child.waitForLine(/^alpha ready/, 10_000)).toBe(`alpha ready ${child.pid}`);
    await child.waitForLine(/tick 3$/, 5_000);
    expect(child.lines[0]).toBe(`alpha ready ${child.pid}`);

    child.pause();
    const frozenAt = child.lines.length;
    await sleep(150);
    expect(child.lines.length).toBeLessThanOrEqual(frozenAt + 1);
    child.resume();
    await child.waitForLine(new RegExp(`tick ${frozenAt + 3}$`), 5_000);

    await child.kill();
    expect(await child.exited).toBeNull();
  });

  test("testkit - spawnChild reports an early exit with the child's stderr", async () => {
    const child = await spawnChild({ script, args: ["fail"] });
    const error = await child.waitForLine(/ready/, 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildExitedError);
    expect(String(error)).toContain("failing on purpose");
    expect(await child.exited).toBe(3);
  });

  test("testkit - spawnChild waitForLine times out and kill accepts a signal", async () => {
    await using child = await spawnChild({ script });
    await child.waitForLine(/ready/, 10_000);
    const error = await child.waitForLine(/never printed/, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildLineTimeoutError);
    expect(String(error)).toContain("never printed");
    child.pause();
    await child.kill("SIGTERM");
    expect(await child.exited).toBeNull();
  });

  test("testkit - spawnChild rejects a missing script", async () => {
    await expect(spawnChild({ script: "does/not/exist.ts" })).rejects.toBeInstanceOf(
      ChildSpawnError,
    );
  });
});
