/* global process, require */
// Preloaded into benchmark children (NODE_OPTIONS="--require …/cpu-probe.cjs",
// CPU_PROFILE_DIR=<dir>) where `--cpu-prof` is refused in NODE_OPTIONS: profiles the
// whole life of the process with the inspector and writes
// <dir>/<pid>.cpuprofile on exit (open it in Chrome DevTools, or summarise it
// with `node test/bench/profile-top.ts <file>`). Only a clean exit writes it.
const inspector = require("node:inspector");
const { writeFileSync } = require("node:fs");
const { join } = require("node:path");

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  process.on("exit", () => {
    // The in-thread session answers synchronously, so this runs before the exit.
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
