/* global process */
// Preloaded into benchmark children (NODE_OPTIONS="--require …/cpu-probe.cjs",
// CPU_PROFILE_DIR=<dir>), since `--cpu-prof` is refused in NODE_OPTIONS: a V8
// CPU profile through the inspector. The first SIGWINCH starts it (so start-up
// and warm-up are left out), the second writes <dir>/<pid>.cpuprofile (open it
// in Chrome DevTools, or summarise it with
// `node --import tsx test/bench/profile-top.ts <file>`).
// getBuiltinModule (Node >= 20.16) rather than require: the lint forbids require imports.
const inspector = process.getBuiltinModule("node:inspector");
const { writeFileSync } = process.getBuiltinModule("node:fs");
const { join } = process.getBuiltinModule("node:path");

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  let state = "idle";
  process.on("SIGWINCH", () => {
    if (state === "idle") {
      state = "running";
      session.post("Profiler.start");
    } else if (state === "running") {
      state = "written";
      // The in-thread session answers synchronously.
      session.post("Profiler.stop", (err, result) => {
        if (!err)
          writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      });
    }
  });
}
