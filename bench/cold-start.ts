/**
 * Cold start of each Lambda in `functions/`: bundle size and the time a fresh `node` takes to import
 * the bundle (which builds the function's SDK clients), against a naive unbundled baseline.
 *
 * How the clients get built without any network: `lambdaHandlers(config)` asks its context
 * provider for the idempotency store while it creates the handlers, so importing a function module
 * already validates the environment and constructs every SDK client (AWS SDK v3 clients resolve
 * credentials and open sockets lazily, on the first `send`). The bench checks that on every run and
 * reports it per function: importing the bundle with an empty environment must fail with
 * RuntimeConfigError. The "first invoke" column then calls the handler with `{}`: it has no `id`, so
 * Powertools skips the idempotency store, and the parser drops it, so the whole middy stack runs
 * with no I/O. A function whose handler does not drop `{}` (the reconciler accepts any event) gets
 * no invoke column. Every AWS endpoint points at a closed port on 127.0.0.1, so even a handler that
 * did try to call AWS could not leave the machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";
import { nodejsBundling } from "../infra/bundling.ts";
import { median, round } from "./stats.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** The targets (1 KB = 1000 bytes, the stricter reading). */
export const COLD_START_TARGETS = { maxMinifiedBytes: 250_000, maxOverheadMs: 40, minSpeedup: 3 } as const;

/**
 * SST's Node build for `nodejs: { format: "esm" }` when deploying (sst/sst pkg/runtime/node/build.go):
 * bundle, platform node, ESM, keepNames, mainFields module→main, `sharp`/`pg-native` external,
 * minified, no source map, and this banner. SST's target is esnext; the issue asks for node22,
 * the functions' runtime, which changes nothing for this code.
 */
const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

const SST_OPTIONS: BuildOptions = {
  bundle: true,
  // As deployed (infra/bundling.ts): clients loaded on first use are chunks.
  splitting: nodejsBundling.splitting,
  chunkNames: "chunks/[name]-[hash]",
  platform: "node",
  format: nodejsBundling.format,
  target: "node22",
  keepNames: true,
  mainFields: ["module", "main"],
  external: ["sharp", "pg-native"],
  minify: true,
  sourcemap: false,
  metafile: true,
  banner: { js: SST_BANNER },
  logLevel: "silent",
};

/**
 * The naive baseline: our own TypeScript compiled into one file, every npm package left in
 * node_modules and loaded by Node at run time ("zip the handler with node_modules").
 */
const npmPackagesExternal: Plugin = {
  name: "npm-packages-external",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@gantry/") ? undefined : { path: args.path, external: true },
    );
  },
};

/** Nothing listens on port 9 (discard): a call that slipped through fails at once, locally. */
const NOWHERE = "http://127.0.0.1:9";

/**
 * Environment of every measured process: a valid runtime configuration as infra/ sets it, dummy
 * credentials, and every endpoint override pointing nowhere.
 */
const CHILD_ENV: Record<string, string> = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_EC2_METADATA_DISABLED: "true",
  GANTRY_LEDGER_TABLE: "gantry-bench-ledger",
  GANTRY_IDEMPOTENCY_TABLE: "gantry-bench-idempotency",
  GANTRY_TOPIC_ARN: "arn:aws:sns:us-east-1:111122223333:gantry-bench",
  GANTRY_STAGE: "bench",
  POWERTOOLS_SERVICE_NAME: "gantry",
  POWERTOOLS_METRICS_NAMESPACE: "Gantry",
  GANTRY_RETRY_FUNCTION_ARN: "arn:aws:lambda:us-east-1:111122223333:function:gantry-bench-retry",
  GANTRY_RETRY_ROLE_ARN: "arn:aws:iam::111122223333:role/gantry-bench-scheduler",
  GANTRY_RETRY_SCHEDULE_GROUP: "gantry-bench",
  // The upload functions' configuration (infra/uploads.ts sets the real one); dummy keys.
  GANTRY_UPLOAD_BUCKET: "gantry-bench-uploads",
  GANTRY_UPLOAD_POLICY: JSON.stringify({
    app: "storefront",
    contentTypes: ["video/mp4"],
    maxObjectBytes: 1000,
  }),
  GANTRY_UPLOAD_AUTH: JSON.stringify({ issuer: "bench", audience: "bench", algorithms: ["HS256"] }),
  GANTRY_UPLOAD_AUTH_KEY: "bench-only-auth-key-0123456789abcdef",
  GANTRY_UPLOAD_TOKEN_KEY: "bench-only-token-key-0123456789abcdef",
  GANTRY_UPLOAD_APPS: JSON.stringify({ storefront: {} }),
  GANTRY_S3_FORCE_PATH_STYLE: "true",
  ...Object.fromEntries(
    ["APPRUNNER", "ECR", "DYNAMODB", "SNS", "INSPECTOR", "LOGS", "SCHEDULER", "S3", "EVENTBRIDGE"].map(
      (service) => [`GANTRY_${service}_ENDPOINT`, NOWHERE],
    ),
  ),
  // The SDK's Node-22 notice would be printed on every start; it is not what we measure.
  NODE_NO_WARNINGS: "1",
};

/**
 * Runs in each measured process: import the module (timed in-process too), optionally invoke the
 * handler once with `{}`, report on fd 3 so handler logs on stdout cannot corrupt the figures.
 */
const CHILD_SCRIPT = `
const t0 = performance.now();
const mod = await import(process.env.BENCH_MODULE);
const importMs = performance.now() - t0;
let invokeMs = null;
if (process.env.BENCH_INVOKE === "1") {
  const context = {
    functionName: "bench", functionVersion: "$LATEST", memoryLimitInMB: "512",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:111122223333:function:bench",
    awsRequestId: "bench-request", logGroupName: "/aws/lambda/bench", logStreamName: "bench",
    callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => 60000,
  };
  const t1 = performance.now();
  const result = await mod.handler({}, context);
  invokeMs = performance.now() - t1;
  if (!result || result.dropped !== true) { process.stderr.write("expected {} to be dropped\\n"); process.exit(3); }
}
(await import("node:fs")).writeSync(3, JSON.stringify({ importMs, invokeMs }));
`;

export interface ColdStartOptions {
  runs: number;
  warmup: number;
  /** Also time the TypeScript entry through `node --import tsx` (slow; off unless --tsx). */
  tsx: boolean;
  log: (line: string) => void;
}

export interface Contributor {
  package: string;
  bytes: number;
}

export interface FunctionColdStart {
  name: string;
  /** What a cold start reads: the entry and the chunks it imports statically (minified). */
  minifiedBytes: number;
  gzipBytes: number;
  /** Every output file, including the chunks loaded on first use (dynamic `import()`). */
  allChunksBytes?: number;
  chunksAtStart?: number;
  chunksOnDemand?: number;
  unbundledOwnCodeBytes: number;
  topContributors: Contributor[];
  /** Importing without the runtime environment fails: the import builds the context and clients. */
  clientsBuiltAtImport: boolean;
  /** Medians over `runs` fresh processes, in ms. */
  wallMs: { bundle: number; bundleInvoke?: number; baseline: number; tsx?: number };
  /** Wall time minus the bare `node -e 0` median of the same run. */
  overheadMs: { bundle: number; bundleInvoke?: number; baseline: number; tsx?: number };
  /** `await import()` measured inside the process (no process start-up in it). */
  inProcessImportMs: { bundle: number; baseline: number };
  /** First invoke of `{}` after import (bundle), inside the process. */
  inProcessFirstInvokeMs?: number;
  speedupVsBaseline: number;
  meets: { size: boolean; overhead: boolean; speedup: boolean };
}

export interface ColdStartResult {
  runs: number;
  warmup: number;
  bareNodeWallMs: number;
  esbuild: string;
  buildOptions: string;
  functions: FunctionColdStart[];
  /** Functions that could not be measured, with the reason (e.g. a new required variable). */
  skipped: { name: string; reason: string }[];
  dependencyGroups?: DependencyGroup[];
}

interface Variant {
  key: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

interface Built {
  name: string;
  entry: string;
  bundleFile: string;
  baselineFile: string;
  minifiedBytes: number;
  gzipBytes: number;
  allChunksBytes: number;
  chunksAtStart: number;
  chunksOnDemand: number;
  unbundledOwnCodeBytes: number;
  topContributors: Contributor[];
  clientsBuiltAtImport: boolean;
  invokable: boolean;
}

const ESM_EVAL = ["--input-type=module", "-e", CHILD_SCRIPT];

const moduleEnv = (file: string, invoke = false): Record<string, string> => ({
  ...CHILD_ENV,
  BENCH_MODULE: pathToFileURL(file).href,
  ...(invoke ? { BENCH_INVOKE: "1" } : {}),
});

export async function runColdStart(options: ColdStartOptions): Promise<ColdStartResult> {
  const { log } = options;
  const names = readdirSync(join(ROOT, "functions"))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => basename(file, ".ts"))
    .sort();
  // Bundles go to a directory with no node_modules above it: they must run on their own.
  const isolated = mkdtempSync(join(tmpdir(), "gantry-bench-"));
  assertNoNodeModulesAbove(isolated);
  const baselineDir = join(ROOT, "bench", ".out", "unbundled");
  mkdirSync(baselineDir, { recursive: true });
  try {
    const built: Built[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const name of names) {
      const entry = join(ROOT, "functions", `${name}.ts`);
      const outdir = join(isolated, name);
      const result = await build({
        ...SST_OPTIONS,
        entryPoints: [entry],
        outdir,
        entryNames: "[name]",
        outExtension: { ".js": ".mjs" },
      });
      const bundleFile = join(outdir, `${name}.mjs`);
      const chunks = loadedAtStart(result.metafile as Metafile, bundleFile);
      const baselineFile = join(baselineDir, `${name}.mjs`);
      await build({
        entryPoints: [entry],
        outfile: baselineFile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node22",
        plugins: [npmPackagesExternal],
        logLevel: "silent",
      });
      const probe = probeRun(bundleFile, moduleEnv(bundleFile));
      if (!probe.ok) {
        skipped.push({ name, reason: `import failed: ${probe.error}` });
        log(`  ${name}: not measured (import failed: ${probe.error})`);
        continue;
      }
      const code = Buffer.concat(chunks.atStart.map((file) => readFileSync(file)));
      const fn: Built = {
        name,
        entry,
        bundleFile,
        baselineFile,
        minifiedBytes: code.length,
        gzipBytes: gzipSync(code).length,
        allChunksBytes: chunks.all.reduce((sum, file) => sum + statSync(file).size, 0),
        chunksAtStart: chunks.atStart.length,
        chunksOnDemand: chunks.all.length - chunks.atStart.length,
        unbundledOwnCodeBytes: statSync(baselineFile).size,
        topContributors: contributors(result.metafile as Metafile, 12, new Set(chunks.atStart)),
        clientsBuiltAtImport: failsWithoutEnvironment(bundleFile),
        invokable: probeRun(bundleFile, moduleEnv(bundleFile, true)).ok,
      };
      built.push(fn);
      log(
        `  built ${name}: ${fn.minifiedBytes} B minified, ${fn.gzipBytes} B gzip; clients built at import: ${fn.clientsBuiltAtImport ? "yes" : "NO"}; ` +
          `{} dropped without I/O: ${fn.invokable ? "yes" : "no"}`,
      );
    }

    const variants: Variant[] = [{ key: "bare", args: ["-e", "0"], env: CHILD_ENV, cwd: isolated }];
    for (const fn of built) {
      variants.push({
        key: `${fn.name}:bundle`,
        args: ESM_EVAL,
        env: moduleEnv(fn.bundleFile),
        cwd: isolated,
      });
      if (fn.invokable) {
        variants.push({
          key: `${fn.name}:bundleInvoke`,
          args: ESM_EVAL,
          env: moduleEnv(fn.bundleFile, true),
          cwd: isolated,
        });
      }
      variants.push({
        key: `${fn.name}:baseline`,
        args: ESM_EVAL,
        env: moduleEnv(fn.baselineFile),
        cwd: ROOT,
      });
      if (options.tsx) {
        variants.push({
          key: `${fn.name}:tsx`,
          args: ["--import", "tsx", ...ESM_EVAL],
          env: moduleEnv(fn.entry),
          cwd: ROOT,
        });
      }
    }

    log(`  timing ${variants.length} variants × ${options.runs} runs (+${options.warmup} warm-up rounds)…`);
    const wall = new Map<string, number[]>(variants.map((variant) => [variant.key, []]));
    const inProcess = new Map<string, { importMs: number; invokeMs: number | null }[]>(
      variants.map((variant) => [variant.key, []]),
    );
    for (let round = 0; round < options.warmup + options.runs; round++) {
      // Rotate the order every round so no variant always runs right after the same neighbour.
      const offset = round % variants.length;
      const ordered = [...variants.slice(offset), ...variants.slice(0, offset)];
      for (const variant of ordered) {
        const sample = spawnTimed(variant);
        if (round < options.warmup) continue;
        wall.get(variant.key)?.push(sample.wallMs);
        if (sample.report) inProcess.get(variant.key)?.push(sample.report);
      }
    }

    const bare = median(wall.get("bare") ?? []);
    const med = (key: string) => median(wall.get(key) ?? []);
    const inProc = (key: string, field: "importMs" | "invokeMs") =>
      median((inProcess.get(key) ?? []).map((report) => report[field] ?? Number.NaN));
    const functions = built.map((fn): FunctionColdStart => {
      const over = (key: string) => round(med(key) - bare);
      const overheadMs = {
        bundle: over(`${fn.name}:bundle`),
        ...(fn.invokable ? { bundleInvoke: over(`${fn.name}:bundleInvoke`) } : {}),
        baseline: over(`${fn.name}:baseline`),
        ...(options.tsx ? { tsx: over(`${fn.name}:tsx`) } : {}),
      };
      const speedup = round(overheadMs.baseline / Math.max(overheadMs.bundle, 0.1), 2);
      return {
        name: fn.name,
        minifiedBytes: fn.minifiedBytes,
        gzipBytes: fn.gzipBytes,
        allChunksBytes: fn.allChunksBytes,
        chunksAtStart: fn.chunksAtStart,
        chunksOnDemand: fn.chunksOnDemand,
        unbundledOwnCodeBytes: fn.unbundledOwnCodeBytes,
        topContributors: fn.topContributors,
        clientsBuiltAtImport: fn.clientsBuiltAtImport,
        wallMs: {
          bundle: round(med(`${fn.name}:bundle`)),
          ...(fn.invokable ? { bundleInvoke: round(med(`${fn.name}:bundleInvoke`)) } : {}),
          baseline: round(med(`${fn.name}:baseline`)),
          ...(options.tsx ? { tsx: round(med(`${fn.name}:tsx`)) } : {}),
        },
        overheadMs,
        inProcessImportMs: {
          bundle: round(inProc(`${fn.name}:bundle`, "importMs")),
          baseline: round(inProc(`${fn.name}:baseline`, "importMs")),
        },
        ...(fn.invokable
          ? { inProcessFirstInvokeMs: round(inProc(`${fn.name}:bundleInvoke`, "invokeMs"), 2) }
          : {}),
        speedupVsBaseline: speedup,
        meets: {
          size: fn.minifiedBytes <= COLD_START_TARGETS.maxMinifiedBytes,
          overhead: overheadMs.bundle <= COLD_START_TARGETS.maxOverheadMs,
          speedup: speedup >= COLD_START_TARGETS.minSpeedup,
        },
      };
    });
    return {
      runs: options.runs,
      warmup: options.warmup,
      bareNodeWallMs: round(bare),
      esbuild: (await import("esbuild")).version,
      buildOptions:
        "bundle, platform node, format esm, target node22, minify, keepNames, mainFields module,main, external sharp,pg-native, SST createRequire/__dirname banner",
      functions,
      skipped,
      dependencyGroups: await measureDependencyGroups(
        isolated,
        Math.max(10, Math.ceil(options.runs / 2)),
        log,
      ),
    };
  } finally {
    rmSync(isolated, { recursive: true, force: true });
  }
}

/**
 * What each dependency costs on its own: a bundle that imports only that group (and builds its
 * client, logger or schema), built and timed like a function. Groups share code (@smithy/core is in
 * every SDK client), so the figures overlap and do not add up to a function's; they say where a
 * size or import-time budget would have to come from.
 */
const DEPENDENCY_GROUPS: Record<string, string> = {
  "zod (one schema)": `import * as z from "zod"; export const schema = z.object({ a: z.string() });`,
  "@gantry/core (everything it exports)": `export * from "@gantry/core";`,
  "@gantry/events (everything it exports)": `export * from "@gantry/events";`,
  "middy + Powertools logger, metrics, tracer, idempotency": [
    `import middy from "@middy/core";`,
    `import { Logger } from "@aws-lambda-powertools/logger";`,
    `import { Metrics } from "@aws-lambda-powertools/metrics";`,
    `import { Tracer } from "@aws-lambda-powertools/tracer";`,
    `import { makeHandlerIdempotent } from "@aws-lambda-powertools/idempotency/middleware";`,
    `export const parts = [middy, new Logger(), new Metrics({ namespace: "Gantry" }), new Tracer(), makeHandlerIdempotent];`,
  ].join("\n"),
  ...Object.fromEntries(
    (
      [
        ["App Runner", "@aws-sdk/client-apprunner", "AppRunnerClient"],
        ["DynamoDB", "@aws-sdk/client-dynamodb", "DynamoDBClient"],
        ["ECR", "@aws-sdk/client-ecr", "ECRClient"],
        ["Inspector2", "@aws-sdk/client-inspector2", "Inspector2Client"],
        ["SNS", "@aws-sdk/client-sns", "SNSClient"],
        ["CloudWatch Logs", "@aws-sdk/client-cloudwatch-logs", "CloudWatchLogsClient"],
        ["EventBridge Scheduler", "@aws-sdk/client-scheduler", "SchedulerClient"],
      ] as const
    ).map(([label, pkg, client]) => [
      `AWS SDK: ${label} client`,
      `import { ${client} } from "${pkg}"; export const client = new ${client}({ region: "us-east-1" });`,
    ]),
  ),
};

export interface DependencyGroup {
  group: string;
  minifiedBytes: number;
  /** Median in-process `await import()` of the group's bundle, fresh process each time. */
  inProcessImportMs: number;
}

async function measureDependencyGroups(
  dir: string,
  runs: number,
  log: (line: string) => void,
): Promise<DependencyGroup[]> {
  log(`  timing ${Object.keys(DEPENDENCY_GROUPS).length} dependency groups × ${runs} runs…`);
  const groups: DependencyGroup[] = [];
  for (const [index, [group, contents]] of Object.entries(DEPENDENCY_GROUPS).entries()) {
    const outfile = join(dir, `group-${index}.mjs`);
    await build({
      ...SST_OPTIONS,
      // One file per group: what the group costs when loaded in full, dynamic imports included.
      splitting: false,
      metafile: false,
      stdin: { contents, resolveDir: ROOT, loader: "ts", sourcefile: `group-${index}.ts` },
      outfile,
    });
    const variant: Variant = { key: group, args: ESM_EVAL, env: moduleEnv(outfile), cwd: dir };
    spawnTimed(variant);
    const imports = Array.from({ length: runs }, () => spawnTimed(variant).report?.importMs ?? Number.NaN);
    groups.push({ group, minifiedBytes: statSync(outfile).size, inProcessImportMs: round(median(imports)) });
  }
  return groups.sort((a, b) => b.inProcessImportMs - a.inProcessImportMs);
}

function spawnTimed(variant: Variant): {
  wallMs: number;
  report?: { importMs: number; invokeMs: number | null };
} {
  const started = performance.now();
  const child = spawnSync(process.execPath, variant.args, {
    cwd: variant.cwd,
    env: variant.env,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    maxBuffer: 16 * 1024 * 1024,
  });
  const wallMs = performance.now() - started;
  if (child.status !== 0) {
    throw new Error(
      `cold-start run ${variant.key} exited ${child.status}: ${child.stderr?.toString().slice(0, 2000)}`,
    );
  }
  const fd3 = child.output[3]?.toString() ?? "";
  return fd3 ? { wallMs, report: JSON.parse(fd3) } : { wallMs };
}

/** One untimed run: does this variant work at all (and within 20 s)? */
function probeRun(
  bundleFile: string,
  env: Record<string, string>,
): { ok: true } | { ok: false; error: string } {
  const child = spawnSync(process.execPath, ESM_EVAL, {
    cwd: dirname(bundleFile),
    env,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    timeout: 20_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.status === 0) return { ok: true };
  const stderr = child.stderr?.toString() ?? "";
  // The error's own line, not the minified source line Node prints above it.
  const line =
    stderr.split("\n").find((text) => /^[A-Za-z]*Error\b|^expected /.test(text)) ?? stderr.split("\n")[0];
  return { ok: false, error: (line ?? `exit ${child.status}`).trim().slice(0, 300) };
}

/**
 * Does the import build the clients? Without the runtime environment the import itself must fail
 * with RuntimeConfigError, i.e. the context provider (which builds every client) runs while the
 * module loads. Reported per function: where it is false, the import-only figure leaves the
 * clients out and the "+ first invoke" column is the one to read.
 */
function failsWithoutEnvironment(bundleFile: string): boolean {
  const child = spawnSync(process.execPath, ESM_EVAL, {
    cwd: dirname(bundleFile),
    env: {
      PATH: CHILD_ENV.PATH as string,
      BENCH_MODULE: pathToFileURL(bundleFile).href,
      NODE_NO_WARNINGS: "1",
    },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
    timeout: 20_000,
  });
  return child.status !== 0 && (child.stderr?.toString() ?? "").includes("RuntimeConfigError");
}

function assertNoNodeModulesAbove(dir: string): void {
  for (let current = dir; ; current = dirname(current)) {
    if (existsSync(join(current, "node_modules")))
      throw new Error(`${current}/node_modules exists: the bundle would not be tested in isolation`);
    if (dirname(current) === current) return;
  }
}

/**
 * The output files a cold start reads: the entry and, transitively, the chunks it imports
 * statically. Chunks reached only through `import()` load when a function first takes that path.
 */
export function loadedAtStart(metafile: Metafile, entryFile: string): { atStart: string[]; all: string[] } {
  const cwd = process.cwd();
  const absolute = (file: string) => resolve(cwd, file);
  const outputs = new Map(
    Object.entries(metafile.outputs)
      .filter(([file]) => file.endsWith(".mjs"))
      .map(([file, output]) => [absolute(file), output]),
  );
  const atStart = new Set<string>();
  const visit = (file: string) => {
    if (atStart.has(file)) return;
    atStart.add(file);
    for (const imported of outputs.get(file)?.imports ?? []) {
      if (imported.kind === "import-statement" && !imported.external) visit(absolute(imported.path));
    }
  };
  visit(resolve(entryFile));
  return { atStart: [...atStart], all: [...outputs.keys()] };
}

/** Bytes in the output per npm package (or workspace package), biggest first; `only` these output files. */
export function contributors(metafile: Metafile, top: number, only?: ReadonlySet<string>): Contributor[] {
  const totals = new Map<string, number>();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (only && !only.has(resolve(process.cwd(), file))) continue;
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(path);
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals.entries()]
    .map(([name, bytes]) => ({ package: name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

function packageOf(path: string): string {
  const marker = "node_modules/";
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const [first, second] = path.slice(at + marker.length).split("/");
    return first?.startsWith("@") ? `${first}/${second}` : (first ?? path);
  }
  const workspace = /^packages\/([^/]+)\//.exec(path);
  if (workspace) return `@gantry/${workspace[1]}`;
  return path.startsWith("functions/") ? "functions/" : path;
}
