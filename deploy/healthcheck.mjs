#!/usr/bin/env node
// The image's HEALTHCHECK: exits 0 when this container's Rookery process is
// ready (in the cluster with a live heartbeat, not draining), 1 otherwise.
// It asks /readyz on the first port that answers: ROOKERY_HEALTH_URL when
// set; else the admin port (ROOKERY_ADMIN_PORT), the node metrics port
// (ROOKERY_METRICS_PORT, default 9101; in a co-located process it covers
// both roles), then the gateway port (ROOKERY_GATEWAY_PORT, default 8080).
const env = process.env;
const urls = env.ROOKERY_HEALTH_URL
  ? [env.ROOKERY_HEALTH_URL]
  : [env.ROOKERY_ADMIN_PORT, env.ROOKERY_METRICS_PORT || "9101", env.ROOKERY_GATEWAY_PORT || "8080"]
      .filter((port) => port && port !== "0")
      .map((port) => `http://127.0.0.1:${port}/readyz`);

for (const url of urls) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    console.log(`${url}: ${res.status}`);
    process.exit(res.status === 200 ? 0 : 1);
  } catch {
    // nothing listens there: try the next port
  }
}
console.log(`not ready: nothing answered on ${urls.join(", ")}`);
process.exit(1);
