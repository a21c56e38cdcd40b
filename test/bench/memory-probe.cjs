/* global process */
// Preloaded into benchmark children (NODE_OPTIONS="--expose-gc --require …"):
// on SIGWINCH (SIGUSR2 would stop Colyseus, which treats it as nodemon's restart), collect garbage twice and print one memory line, so a
// benchmark compares what is retained, not what the collector left behind.
process.on("SIGWINCH", () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const line = { event: "memory", heapUsed: m.heapUsed, external: m.external, rss: m.rss };
  process.stdout.write(`${JSON.stringify(line)}\n`);
});
