import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`; scripts/setup.mjs --test installs it). */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Headless Chromium for the page tests. Background networking is off: this
 * machine's closed network refuses Chromium's own connections.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
}
