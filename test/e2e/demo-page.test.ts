import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "./browser";
import {
  startNatsServer,
  testNamespace,
  type ChildHandle,
  type NatsServer,
} from "@rookery/testkit";
import type { Gateway } from "@rookery/gateway";
import { startNode } from "../../services/node/test/nodes";
import { startGateway } from "../../services/gateway/test/harness";

const SCREENSHOTS = new URL("../../test-results/", import.meta.url).pathname;

let server: NatsServer;
let node: ChildHandle;
let gateway: Gateway;
let browser: Browser;

beforeAll(async () => {
  server = await startNatsServer();
  const prefix = testNamespace("demo page");
  node = await startNode(server.url, prefix, "node-demo");
  gateway = await startGateway(server.url, prefix, { id: "gw-demo", demo: true });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await node?.kill("SIGKILL");
  await server?.stop();
});

async function joinAs(name: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`http://127.0.0.1:${gateway.port}/`);
  await page.fill("#name", name);
  await page.fill("#room", "demo");
  await page.click("#join");
  await page.waitForSelector("#room-view:not([hidden])", { timeout: 15_000 });
  return page;
}

describe("demo page", () => {
  it("demo - two pages join the party room; one adds, the other sees it, with members and the leader badge", async () => {
    const alice = await joinAs("Alice");
    const bob = await joinAs("Bob");

    for (const page of [alice, bob]) {
      await page.waitForFunction(() => document.querySelectorAll("#members li").length === 2);
      await expect.poll(() => page.textContent("#status")).toBe("open");
    }
    // Alice came first: she leads, on both pages, and only she gets the skip button.
    for (const page of [alice, bob]) {
      const leader = await page.textContent("#members li:has(.badge)");
      expect(leader).toContain("Alice");
    }
    expect(await alice.isVisible("#skip")).toBe(true);
    expect(await bob.isVisible("#skip")).toBe(false);

    await alice.fill("#title", "Bohemian Rhapsody");
    await alice.click("#add");
    await bob.waitForFunction(
      () => document.querySelector("#queue li")?.textContent === "Bohemian Rhapsody",
    );
    await bob.fill("#title", "Under Pressure");
    await bob.click("#add");
    await alice.waitForFunction(() => document.querySelectorAll("#queue li").length === 2);
    expect(await alice.$$eval("#queue li", (els) => els.map((e) => e.textContent))).toEqual([
      "Bohemian Rhapsody",
      "Under Pressure",
    ]);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await alice.screenshot({ path: `${SCREENSHOTS}demo-alice.png`, fullPage: true });
    await bob.screenshot({ path: `${SCREENSHOTS}demo-bob.png`, fullPage: true });

    // The leader leaves (closes the tab): after the reconnect grace, Bob leads.
    await alice.context().close();
    await bob.waitForFunction(
      () => document.querySelectorAll("#members li").length === 1,
      undefined,
      { timeout: 15_000 },
    );
    expect(await bob.textContent("#members li:has(.badge)")).toContain("Bob");
  });
});
