#!/usr/bin/env node
// Makes a fresh checkout runnable: installs npm dependencies when they are missing
// or stale, and makes sure a nats-server binary exists (apt-get when root).
// With --test it also makes sure Chromium exists for the demo page's browser
// test (apt-get when root), and tries to install docker-compose for the
// compose validation test (which skips, saying why, when it is missing).
// Plain Node with no dependencies: it runs before `npm ci` has happened.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findNatsServer } from "./nats-binary.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const INSTALL_HINT =
  "nats-server not found: install it with `sudo apt-get install -y nats-server` (Debian/Ubuntu) or put a nats-server >= 2.9 binary on PATH";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_HINT =
  "chromium not found (the demo page test drives it): install it with `sudo apt-get install -y chromium`";

function dependenciesAreFresh() {
  const marker = join(root, "node_modules", ".package-lock.json");
  if (!existsSync(marker)) return false;
  return statSync(marker).mtimeMs >= statSync(join(root, "package-lock.json")).mtimeMs;
}

function canApt() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  return isRoot && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
}

function aptInstall(pkg, hint) {
  if (!canApt()) {
    console.error(hint);
    process.exit(1);
  }
  console.log(`setup: installing ${pkg} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  execFileSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "inherit", env });
}

if (!dependenciesAreFresh()) {
  console.log("setup: installing npm dependencies (npm ci)");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
}
if (!findNatsServer()) aptInstall("nats-server", INSTALL_HINT);
if (!findNatsServer()) {
  console.error(INSTALL_HINT);
  process.exit(1);
}
if (process.argv.includes("--test") && !existsSync(CHROMIUM)) {
  aptInstall("chromium", CHROMIUM_HINT);
  if (!existsSync(CHROMIUM)) {
    console.error(CHROMIUM_HINT);
    process.exit(1);
  }
}
const hasCompose = () => spawnSync("sh", ["-c", "command -v docker-compose"]).status === 0;
if (process.argv.includes("--test") && !hasCompose()) {
  if (canApt()) {
    try {
      aptInstall("docker-compose", "");
    } catch (error) {
      console.log(`setup: docker-compose not installed (${error.message}); the compose test skips`);
    }
  } else {
    console.log(
      "setup: docker-compose missing (apt-get install docker-compose); the compose test skips",
    );
  }
}
