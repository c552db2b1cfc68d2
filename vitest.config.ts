import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "loadtest/**/*.test.ts",
            "deploy/stack/schema-registry/src/**/*.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: ["packages/*/test/integration/**/*.test.ts"],
          globalSetup: ["packages/gateway/test/integration/global-setup.ts"],
          // One real stack is shared; files that kill gateways must not overlap.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
