/**
 * Issue 14: the console's room playground in Chromium. Two made-up users
 * join the same party room (the second one opened beside the first); one
 * adds a song and both see the event; an invalid JSON body shows an error
 * and sends nothing.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { BucketReader, ControlClient, startConsole } from "@rookery/cli";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import { startNode } from "../../services/node/test/nodes";

const DOCS = new URL("../../docs/", import.meta.url).pathname;
const TOKEN = "playground-test-token-0123456789";

let server: NatsServer;
let nc: NatsConnection;
let node: ChildHandle;
let consoleServer: Awaited<ReturnType<typeof startConsole>>;
let browser: Browser;
const prefix = testNamespace("room playground");

beforeAll(async () => {
  server = await startNatsServer();
  node = await startNode(server.url, prefix, "play-a");
  nc = await connect({ servers: server.url });
  consoleServer = await startConsole(
    {
      reader: new BucketReader(nc, prefix),
      control: new ControlClient(nc, prefix),
      log: () => {},
      play: { nc, prefix },
    },
    { port: 0, token: TOKEN, pollMs: 500 },
  );
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await consoleServer?.close();
  await nc?.close();
  await node?.kill("SIGKILL");
  await server?.stop();
});

const eventsOf = (page: Page, user: string) =>
  page.$$eval(`.player[data-user="${user}"] ul.events li`, (items) =>
    items.map((i) => i.textContent ?? ""),
  );

describe("room playground", () => {
  it("playground - the API needs the operator token", async () => {
    const base = consoleServer.url;
    expect((await fetch(`${base}playground`)).status).toBe(200);
    expect((await fetch(`${base}api/play/types`)).status).toBe(401);
    const join = await fetch(`${base}api/play/join`, {
      method: "POST",
      body: '{"type":"party","room":"x","user":"ann"}',
    });
    expect(join.status).toBe(401);

    const post = (path: string, body: string) =>
      fetch(`${base}api/play/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body,
      });
    // A body that is not JSON, a bad user name, an unknown player: refused before any room.
    const bad = await post("input", '{"session": "x", "type": "add", "body": {');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/invalid JSON/);
    expect((await post("join", '{"type":"party","room":"x","user":"a b"}')).status).toBe(400);
    expect((await post("input", '{"session":"nope","type":"add","body":{}}')).status).toBe(404);
    const unknown = await post("join", '{"type":"no-such-type","room":"x","user":"ann"}');
    expect(unknown.status).toBe(502);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/no node serves/);
  });

  it("playground - two users join a party room, one adds a song, both see it; a bad JSON body changes nothing", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${consoleServer.url}playground?token=${TOKEN}`);
    await page.waitForSelector("#app:not([hidden])");
    expect(new URL(page.url()).search).toBe(""); // the token left the address bar
    await page.fill("#type", "party");
    await page.fill("#room", "pg-1");
    await page.fill("#user", "ann");
    await page.click("#join-button");
    const ann = page.locator('.player[data-user="ann"]');
    await ann.waitFor();
    expect(await ann.locator("h2").textContent()).toContain("ann in party/pg-1");
    // A second user beside the first.
    await ann.locator("button.another").click();
    const bob = page.locator('.player[data-user="bob"]');
    await bob.waitFor();
    expect(await bob.locator("h2").textContent()).toContain("bob in party/pg-1");
    expect(await bob.locator("pre.members").textContent()).toContain('"ann"');
    await expect.poll(() => eventsOf(page, "ann")).toContainEqual(expect.stringContaining("$join"));

    // ann adds a song: both see the queue event with it.
    await ann.locator("input.input-type").fill("add");
    await ann.locator("textarea.input-body").fill('{"title":"Song 1"}');
    await ann.locator("button.send-input").click();
    await expect.poll(() => ann.locator(".result").last().textContent()).toMatch(/acked seq 1/);
    for (const user of ["ann", "bob"]) {
      await expect
        .poll(() => eventsOf(page, user), { timeout: 10_000 })
        .toContainEqual(expect.stringMatching(/^queue.*Song 1/));
    }
    const before = (await eventsOf(page, "bob")).length;

    // An invalid JSON body: an error on the page, nothing sent.
    await bob.locator("input.input-type").fill("add");
    await bob.locator("textarea.input-body").fill('{"title": Song 2}');
    await bob.locator("button.send-input").click();
    expect(await bob.locator("p.error").textContent()).toContain("invalid JSON body");
    await page.waitForTimeout(1000);
    expect((await eventsOf(page, "bob")).length).toBe(before);
    expect((await eventsOf(page, "ann")).join("\n")).not.toContain("Song 2");
    // JSON the room refuses: its refusal is shown.
    await bob.locator("textarea.input-body").fill('{"name":"no title"}');
    await bob.locator("button.send-input").click();
    await expect.poll(() => bob.locator("p.error").textContent()).toMatch(/refused \(seq 1\)/);

    // A new user joining sees the state with the song.
    await page.fill("#user", "cat");
    await page.click("#join-button");
    const cat = page.locator('.player[data-user="cat"]');
    await cat.waitFor();
    await expect
      .poll(
        async () =>
          (await cat.locator("pre.state").textContent()) + (await eventsOf(page, "cat")).join(""),
      )
      .toContain("Song 1");
    expect(errors).toEqual([]);
    await page.screenshot({ path: `${DOCS}playground.png`, fullPage: true });
    await page.close();
  });
});
