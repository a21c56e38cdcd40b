import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "@nats-io/nkeys";
import { afterAll, describe, expect, it } from "vitest";
import { main as cli } from "@rookery/cli";
import { connectNats } from "@rookery/cluster";
import { spawnChild, type ChildHandle } from "@rookery/testkit";

const script = new URL("../../scripts/start.mjs", import.meta.url).pathname;
let child: ChildHandle | undefined;

afterAll(async () => {
  await child?.kill("SIGKILL").catch(() => undefined);
});

describe("npm start", () => {
  it("start - one command runs nats-server and two co-located processes with the demo; Ctrl-C stops all", async () => {
    // PORT=0: any free port, so the test never collides with a developer's `npm start`.
    child = await spawnChild({ script, env: { PORT: "0", NATS_URL: "" } });
    const line = await child.waitForLine(/demo page:/, 60_000);
    const base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const discovered = (await (await fetch(`${base}/discover`)).json()) as { gateway: string };
    expect(["rookery-1", "rookery-2"]).toContain(discovered.gateway);
    // Both processes are gateways: the second one's line names its own URL.
    await child.waitForLine(/rookery-2: ws:/, 5_000);
    const page = await (await fetch(`${base}/`)).text();
    expect(page).toContain("Party queue");
    expect((await fetch(`${base}/demo.js`)).status).toBe(200);

    // Its NATS runs with authentication (issue 15): no key or a wrong key is refused,
    // the generated operator key reads the cluster.
    const running = await child.waitForLine(/Rookery is running/, 5_000);
    const natsUrl = /NATS (nats:\/\/[\d.:]+)/.exec(running)![1]!;
    await expect(connectNats(undefined, { servers: natsUrl, timeout: 3000 })).rejects.toThrow(
      /authorization/i,
    );
    const wrong = join(tmpdir(), `rookery-wrong-${process.pid}.nk`);
    writeFileSync(wrong, new TextDecoder().decode(createUser().getSeed()));
    await expect(connectNats({ nkey: wrong }, { servers: natsUrl, timeout: 3000 })).rejects.toThrow(
      /authorization/i,
    );
    // The run's own data folder (.data, or .data/run-<n> beside another run): from the printed command.
    const cliLine = await child.waitForLine(/npx rookery nodes/, 5_000);
    const operator = new URL(`../../${/--nkey (\S+)/.exec(cliLine)![1]}`, import.meta.url).pathname;
    const lines: string[] = [];
    expect(
      await cli(["--server", natsUrl, "--nkey", operator, "--json", "nodes"], (l) => lines.push(l)),
    ).toBe(0);
    expect(lines.join("\n")).toContain("rookery-2");

    // The cluster console runs too (issue 14): its printed URL answers 200, and its
    // token (in the URL) opens the API, with the run's admin key behind it.
    const consoleLine = await child.waitForLine(/ console: http:/, 10_000);
    const consoleUrl = new URL(/http:\/\/\S+/.exec(consoleLine)![0]);
    expect(consoleUrl.hostname).toBe("127.0.0.1");
    expect((await fetch(consoleUrl)).status).toBe(200);
    const token = consoleUrl.searchParams.get("token")!;
    expect(token.length).toBeGreaterThanOrEqual(16);
    const api = `${consoleUrl.origin}/api`;
    expect((await fetch(`${api}/state`)).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    await expect
      .poll(
        async () => {
          const state = (await (await fetch(`${api}/state`, { headers: auth })).json()) as {
            processes: { id: string; role: string; drain: unknown }[];
          };
          return state.processes.filter((p) => p.role === "node").map((p) => p.id);
        },
        { timeout: 10_000 },
      )
      .toEqual(["rookery-1", "rookery-2"]);
    expect((await fetch(`${consoleUrl.origin}/playground`)).status).toBe(200);
    // Its playground plays a user with the admin key: join a party room, add a song.
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${api}/play/${path}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const joined = await post("join", { type: "party", room: "start-1", user: "ann" });
    expect(joined.member).toMatch(/^ann:/);
    const added = await post("input", {
      session: joined.session,
      type: "add",
      body: { title: "A" },
    });
    expect(added).toMatchObject({ ok: true, seq: 1 });
    await post("leave", { session: joined.session });

    await child.kill("SIGINT");
    const code = await child.exited;
    // What npm start said while stopping tells which step failed.
    expect(code, child.lines.slice(-60).join("\n")).toBe(0);
  });
});
