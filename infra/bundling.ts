/**
 * How every Gantry function is bundled (SST's esbuild): ESM, and code splitting so that a client
 * loaded on first use (`packages/runtime/src/lazy-port.ts`) is its own chunk, read from disk only
 * when a function takes that path. The bench (`bench/cold-start.ts`) builds the same way.
 */
export const nodejsBundling = { format: "esm", splitting: true } as const;
