import { defineConfig } from "vitest/config";

/**
 * `npm run test:unit`: the core's unit tests on in-memory ports. No global setup, so no Java and no
 * DynamoDB Local: the fast loop while changing domain logic. `npm test` runs these too.
 */
export default defineConfig({
  test: {
    include: ["packages/core/test/**/*.test.ts"],
    testTimeout: 30_000,
  },
});
