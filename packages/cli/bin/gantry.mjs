#!/usr/bin/env node
// `npx gantry …`: runs the TypeScript CLI through tsx (no build step in this repo).
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
