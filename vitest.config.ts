import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "examples/test/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    pool: "forks",
    // Failure tests measure detection against TTLs of a few seconds; on a 2-core
    // machine, files running side by side starve each other's nats-servers.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    reporters: ["default"],
  },
});
