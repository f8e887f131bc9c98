#!/usr/bin/env node
/**
 * Offline SST tooling for Gantry (no AWS account, no Pulumi CLI, no internet beyond npm).
 *
 *   node scripts/sst.mjs install      `sst install --stage local` if .sst/platform is missing or stale
 *   node scripts/sst.mjs typecheck    install, then tsc over sst.config.ts + infra/ (infra/tsconfig.json)
 *   node scripts/sst.mjs check [--stage <stage>] [--out <file>] [--allow-missing-handlers]
 *                                     install, then evaluate the real sst.config.ts under Pulumi mocks
 *                                     and write every registered resource (type, name, parent,
 *                                     retainOnDelete, inputs)
 *                                     as JSON to <file> or stdout. Progress goes to stderr.
 *
 * How `check` evaluates the config, following what `sst deploy` does (pkg/project/run.go, pkg/js):
 * - bundle sst.config.ts with SST's own esbuild (.sst/platform/node_modules/esbuild): inject
 *   .sst/platform/src/shim/run.js (the `$config`, `$interpolate`, … globals), define `$app`, `$cli`
 *   and `$dev`, give every project file the provider globals (`aws`, `sst`) from
 *   .sst/provider-lock.json, keep `@pulumi/*` external so the bundle and this script share one
 *   Pulumi runtime, and reject top-level imports in sst.config.ts as SST does;
 * - `pulumi.runtime.setMocks`, then `runInPulumiStack(() => run(config.run))` with SST's
 *   `src/auto/run.ts` (its stack transformations: retain-on-delete, unique link names);
 * - `process.removeAllListeners("exit")` before exiting, or Pulumi's leak detector complains.
 *
 * The RPC workaround: `sst.aws.Function` asks the CLI's RPC server (`SST_SERVER`) to bundle its
 * handler (`Runtime.Build`) and for the region's bootstrap bucket (`Provider.Aws.Bootstrap`).
 * Without a server those calls fail and the function's `aws:lambda/function:Function`, its code
 * object and everything depending on them are never registered. This script starts a local fake
 * RPC server instead: Bootstrap returns fixed names; Build resolves the handler's source file
 * (`functions/x.handler` → `functions/x.ts`; a missing file is an error, as in `sst deploy`, unless
 * --allow-missing-handlers) and answers with a one-file placeholder bundle. The handler code itself
 * is therefore not bundled or checked here. Any other RPC method fails the check.
 *
 * Pulumi data sources are answered by the mocks below (region, partition, account, IAM policy
 * documents rendered like the AWS provider does); an unknown one fails the check, so a new data
 * source cannot slip by with a made-up answer.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const platform = join(root, ".sst", "platform");
const lockFile = join(root, ".sst", "provider-lock.json");
const requireFromRoot = createRequire(join(root, "package.json"));

const MOCK_ACCOUNT = "123456789012";

const sstEnv = {
  ...process.env,
  SST_SKIP_DEPENDENCY_CHECK: "true",
  SST_TELEMETRY_DISABLED: "1",
  DO_NOT_TRACK: "1",
  AWS_EC2_METADATA_DISABLED: "true",
  SST_BUN_PATH: join(root, "node_modules", ".bin", "bun"),
};

const log = (message) => process.stderr.write(`sst.mjs: ${message}\n`);

class UsageError extends Error {}
/** The check failed for reasons already in `errors`. */
class CheckFailed extends Error {}

/** Far above a normal evaluation (~3 s); reached only when something waits forever. */
const SETTLE_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// install

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** The `sst` npm package (its `exports` hide package.json from require.resolve). */
const sstPackage = join(root, "node_modules", "sst");

function sstVersion() {
  if (!existsSync(join(sstPackage, "package.json"))) {
    throw new UsageError("the sst package is not installed: run `npm ci` first");
  }
  return readJson(join(sstPackage, "package.json")).version;
}

const stampFile = join(root, ".sst", ".gantry-install-stamp");

function installStamp(version) {
  const config = createHash("sha256")
    .update(readFileSync(join(root, "sst.config.ts")))
    .digest("hex");
  return JSON.stringify({ sst: version, config });
}

/** Why .sst/platform cannot be used as it is, or undefined when it can. */
function staleReason() {
  const version = sstVersion();
  const platformVersionFile = join(platform, "version");
  if (!existsSync(platformVersionFile)) return ".sst/platform is missing";
  const installed = readFileSync(platformVersionFile, "utf8").trim();
  if (installed !== version) return `.sst/platform is for sst ${installed}, the project uses ${version}`;
  for (const file of ["config.d.ts", "src/shim/run.js", "src/auto/run.ts"]) {
    if (!existsSync(join(platform, file))) return `.sst/platform/${file} is missing`;
  }
  for (const pkg of ["@pulumi/pulumi", "esbuild"]) {
    if (!existsSync(join(platform, "node_modules", pkg, "package.json"))) return `${pkg} is not installed`;
  }
  if (!existsSync(lockFile)) return ".sst/provider-lock.json is missing";
  // `sst install` derives the providers from app() in sst.config.ts: redo it when the file changes.
  if (!existsSync(stampFile) || readFileSync(stampFile, "utf8") !== installStamp(version)) {
    return "sst.config.ts changed since the last sst install";
  }
  for (const entry of readJson(lockFile)) {
    const manifest = join(platform, "node_modules", entry.package, "package.json");
    if (!existsSync(manifest)) return `provider ${entry.package} is not installed`;
    const providerVersion = readJson(manifest).version;
    if (entry.version && providerVersion !== entry.version) {
      return `provider ${entry.package} is ${providerVersion}, the lock says ${entry.version}`;
    }
  }
  return undefined;
}

/** `mkdir` is atomic: one process installs, concurrent ones wait for it. */
async function withInstallLock(action) {
  const lockDir = join(root, ".sst", ".gantry-install.lock");
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A lock older than ten minutes belongs to a process that died mid-install.
      const since = Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (since > 600_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((done) => setTimeout(done, 250));
    }
  }
  try {
    return await action();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function install() {
  const started = performance.now();
  if (staleReason() === undefined) return 0;
  await withInstallLock(async () => {
    const reason = staleReason();
    if (reason === undefined) return;
    log(`${reason}: running sst install --stage local`);
    const result = spawnSync(
      process.execPath,
      [join(sstPackage, "bin", "sst.mjs"), "install", "--stage", "local"],
      {
        cwd: root,
        env: sstEnv,
        // stdout is reserved for `check`'s JSON.
        stdio: ["ignore", process.stderr, process.stderr],
      },
    );
    if (result.status !== 0) throw new Error(`sst install failed (exit ${result.status ?? result.signal})`);
    writeFileSync(stampFile, installStamp(sstVersion()));
    const after = staleReason();
    if (after !== undefined) throw new Error(`sst install finished but ${after}`);
  });
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------
// typecheck

async function typecheck() {
  await install();
  const started = performance.now();
  const tsc = requireFromRoot.resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", join(root, "infra", "tsconfig.json")], {
    cwd: root,
    stdio: "inherit",
  });
  log(
    `typecheck ${result.status === 0 ? "passed" : "failed"} in ${Math.round(performance.now() - started)} ms`,
  );
  return result.status ?? 1;
}

// ---------------------------------------------------------------------------------------------
// check: bundle

const projectFile = /\.[cm]?[jt]sx?$/;

async function bundleConfig(outfile) {
  const esbuild = createRequire(join(platform, "package.json"))("esbuild");
  const providers = readJson(lockFile);
  const providerGlobals = [
    ...providers.map((entry) => `import * as ${entry.alias} from "${entry.package}";`),
    `import * as sst from ${JSON.stringify(join(platform, "src", "components", "index.ts"))};`,
  ].join("\n");
  const globalImports = new Set(providers.map((entry) => entry.package));
  const configPath = join(root, "sst.config.ts");

  await esbuild.build({
    stdin: {
      contents: [
        `import config from ${JSON.stringify(configPath)};`,
        `export { run } from ${JSON.stringify(join(platform, "src", "auto", "run.ts"))};`,
        "export default config;",
      ].join("\n"),
      resolveDir: root,
      sourcefile: "eval.ts",
      loader: "ts",
    },
    outfile,
    bundle: true,
    write: true,
    format: "esm",
    platform: "node",
    target: "es2023",
    mainFields: ["module", "main"],
    nodePaths: [join(platform, "node_modules")],
    external: ["@pulumi/*"],
    inject: [join(platform, "src", "shim", "run.js")],
    define: {
      $app: "globalThis.__gantrySstCheck.app",
      $cli: "globalThis.__gantrySstCheck.cli",
      $dev: "false",
    },
    banner: {
      js: [
        'import { createRequire as topLevelCreateRequire } from "module";',
        "const require = topLevelCreateRequire(import.meta.url);",
        'import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url";',
        "const __filename = topLevelFileUrlToPath(import.meta.url);",
        'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url));',
      ].join("\n"),
    },
    sourcemap: "inline",
    logLevel: "silent",
    plugins: [
      {
        name: "gantry-sst-globals",
        setup(build) {
          // SST forbids top-level imports in sst.config.ts (providers are globals there).
          build.onResolve({ filter: /.*/ }, (args) => {
            if (
              args.importer === configPath &&
              args.kind === "import-statement" &&
              !globalImports.has(args.path) &&
              !args.path.startsWith(platform)
            ) {
              return {
                errors: [
                  { text: `sst.config.ts: top-level import of "${args.path}"; use await import() in run()` },
                ],
              };
            }
            return undefined;
          });
          // SST's own dependencies load from .sst/platform/node_modules at run time, next to the
          // bundle: faster, and immune to bundling quirks (esbuild's sync API starts a worker from
          // its own file; vite, which Remix imports lazily, declares a top-level `__filename`).
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            args.importer.startsWith(platform) && !args.path.startsWith(platform)
              ? { path: args.path, external: true }
              : undefined,
          );
          // Project files see `aws` and `sst` as globals, as under `sst deploy`.
          build.onLoad({ filter: projectFile }, (args) => {
            if (args.path.startsWith(join(root, ".sst")) || args.path.includes("node_modules")) {
              return undefined;
            }
            const source = readFileSync(args.path, "utf8");
            const loader = args.path.endsWith("x") ? "tsx" : args.path.match(/\.[cm]?js$/) ? "js" : "ts";
            return { contents: `${providerGlobals}\n${source}`, loader };
          });
        },
      },
    ],
  });
}

// ---------------------------------------------------------------------------------------------
// check: the fake SST RPC server

const handlerExtensions = [".ts", ".mts", ".tsx", ".js", ".mjs"];

function startRpcServer({ region, allowMissingHandlers, calls, errors }) {
  const placeholder = mkdtempSync(join(tmpdir(), "gantry-sst-check-"));
  let inFlight = 0;

  const methods = {
    "Provider.Aws.Bootstrap": () => ({
      asset: `sst-asset-check-${region}`,
      assetEcrRegistryId: MOCK_ACCOUNT,
      assetEcrUrl: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/sst-asset`,
      state: `sst-state-check-${region}`,
      appsyncHttp: "",
      appsyncRealtime: "",
    }),
    "Runtime.Build": (input) => {
      const handler = String(input.handler);
      const module = handler.slice(0, handler.lastIndexOf("."));
      const source = handlerExtensions
        .map((ext) => `${module}${ext}`)
        .find((file) => existsSync(join(root, file)));
      calls.handlers.push({
        functionID: input.functionID,
        handler,
        source: source ?? null,
        runtime: input.runtime,
        bundling: { format: input.properties?.format, splitting: input.properties?.splitting },
        // What the function links (SST encrypts the values into its bundle): names only, since a
        // linked secret's value is in there.
        links: Object.keys(input.links ?? {}).sort(),
      });
      const buildErrors = [];
      if (source === undefined) {
        const message = `function ${input.functionID}: no source file for handler "${handler}" (tried ${module}{${handlerExtensions.join(",")}})`;
        if (allowMissingHandlers) log(`warning: ${message}`);
        else buildErrors.push(message);
      }
      // A one-file bundle at the handler's path: enough for SST to zip and register the function.
      const out = join(placeholder, String(input.functionID));
      mkdirSync(join(out, dirname(module)), { recursive: true });
      writeFileSync(
        join(out, `${module}.mjs`),
        "export const handler = () => { throw new Error('check'); };\n",
      );
      return { handler, out, errors: buildErrors, sourcemaps: [] };
    },
  };

  const server = http.createServer((request, response) => {
    inFlight++;
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      let reply;
      try {
        const { method, params } = JSON.parse(body);
        calls.rpc.push(method);
        const implementation = methods[method];
        if (implementation === undefined) {
          errors.push(`unexpected SST RPC call ${method}`);
          reply = { result: null, error: `rpc: can't find method ${method}` };
        } else {
          reply = { result: implementation(params?.[0] ?? {}), error: null };
        }
      } catch (error) {
        errors.push(`SST RPC failed: ${error.stack ?? error}`);
        reply = { result: null, error: String(error) };
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(reply));
      inFlight--;
    });
  });

  return new Promise((ready) => {
    server.listen(0, "127.0.0.1", () => {
      ready({
        url: `http://127.0.0.1:${server.address().port}`,
        busy: () => inFlight > 0,
        close: () => {
          server.close();
          rmSync(placeholder, { recursive: true, force: true });
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// check: Pulumi mocks

/** An `aws:iam/getPolicyDocument` answer shaped like the AWS provider's (single values unwrapped). */
function policyDocument(inputs) {
  const one = (values) => (values.length === 1 ? values[0] : values);
  const statements = (inputs.statements ?? []).map((statement) => {
    const rendered = {};
    if (statement.sid) rendered.Sid = statement.sid;
    rendered.Effect = statement.effect ?? "Allow";
    if (statement.actions?.length) rendered.Action = one(statement.actions);
    if (statement.notActions?.length) rendered.NotAction = one(statement.notActions);
    if (statement.resources?.length) rendered.Resource = one(statement.resources);
    if (statement.notResources?.length) rendered.NotResource = one(statement.notResources);
    if (statement.principals?.length) {
      rendered.Principal = {};
      for (const principal of statement.principals) {
        rendered.Principal[principal.type] = one(principal.identifiers);
      }
    }
    if (statement.conditions?.length) {
      rendered.Condition = {};
      for (const condition of statement.conditions) {
        rendered.Condition[condition.test] ??= {};
        rendered.Condition[condition.test][condition.variable] = one(condition.values);
      }
    }
    return rendered;
  });
  const json = JSON.stringify({ Version: inputs.version ?? "2012-10-17", Statement: statements });
  return { ...inputs, id: String(json.length), json, minifiedJson: json };
}

function createMocks({ region, resources, invokes, errors }) {
  const dataSources = {
    "aws:index/getRegion:getRegion": () => ({
      id: region,
      name: region,
      region,
      endpoint: `ec2.${region}.amazonaws.com`,
      description: region,
    }),
    "aws:index/getPartition:getPartition": () => ({
      id: "aws",
      partition: "aws",
      dnsSuffix: "amazonaws.com",
      reverseDnsPrefix: "com.amazonaws",
    }),
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
      id: MOCK_ACCOUNT,
      accountId: MOCK_ACCOUNT,
      arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/gantry-check`,
      userId: "AIDAGANTRYCHECK",
    }),
    "aws:iam/getPolicyDocument:getPolicyDocument": policyDocument,
  };

  /** Outputs AWS computes: ARNs, URLs, generated names. Deterministic, in the mock account. */
  function computed(type, physicalName, inputs) {
    const at = `${region}:${MOCK_ACCOUNT}`;
    switch (type) {
      case "aws:dynamodb/table:Table":
        return { arn: `arn:aws:dynamodb:${at}:table/${physicalName}` };
      case "aws:sqs/queue:Queue":
        return {
          arn: `arn:aws:sqs:${at}:${physicalName}`,
          url: `https://sqs.${region}.amazonaws.com/${MOCK_ACCOUNT}/${physicalName}`,
        };
      case "aws:sns/topic:Topic":
        return { arn: `arn:aws:sns:${at}:${physicalName}` };
      case "aws:lambda/function:Function": {
        const arn = `arn:aws:lambda:${at}:function:${physicalName}`;
        return {
          arn,
          qualifiedArn: `${arn}:$LATEST`,
          invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
          version: "$LATEST",
        };
      }
      case "aws:iam/role:Role":
        return { arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${physicalName}` };
      case "aws:cloudwatch/eventRule:EventRule":
        return { arn: `arn:aws:events:${at}:rule/${physicalName}` };
      case "aws:cloudwatch/logGroup:LogGroup":
        return { arn: `arn:aws:logs:${at}:log-group:${physicalName}` };
      case "aws:cloudwatch/metricAlarm:MetricAlarm":
        return { arn: `arn:aws:cloudwatch:${at}:alarm:${physicalName}` };
      case "random:index/randomBytes:RandomBytes":
        return {
          base64: Buffer.alloc(inputs.length ?? 32, 7).toString("base64"),
          hex: "07".repeat(inputs.length ?? 32),
        };
      default: {
        const [pkg, module] = type.split(":");
        return { arn: `arn:${pkg}:${module.split("/")[0]}:${at}:${physicalName}` };
      }
    }
  }

  return {
    newResource(args) {
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      const physicalName = args.inputs.name ?? `${args.name}-mock`;
      return {
        id: `${args.name}-id`,
        state: { ...args.inputs, name: physicalName, ...computed(args.type, physicalName, args.inputs) },
      };
    },
    call(args) {
      invokes.push({ token: args.token });
      const dataSource = dataSources[args.token];
      if (dataSource === undefined) {
        const message = `unmocked Pulumi data source ${args.token}: add an answer to scripts/sst.mjs`;
        errors.push(message);
        throw new Error(message);
      }
      return dataSource(args.inputs);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// check

function parseArgs(argv) {
  const options = { stage: "production", out: undefined, allowMissingHandlers: false };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === "--stage") options.stage = argv[++index];
    else if (arg === "--out") options.out = argv[++index];
    else if (arg === "--allow-missing-handlers") options.allowMissingHandlers = true;
    else throw new UsageError(`unknown option ${arg}`);
  }
  if (!options.stage || !/^[a-z0-9][a-z0-9-]*$/i.test(options.stage))
    throw new UsageError("--stage needs a name");
  if (options.out === "") throw new UsageError("--out needs a file");
  return options;
}

/** SST reads `.env` then `.env.<stage>` next to sst.config.ts; the shell's own values win. */
function loadEnvFiles(stage) {
  for (const file of [".env", `.env.${stage}`]) {
    if (existsSync(join(root, file))) process.loadEnvFile(join(root, file));
  }
}

const BUNDLE_PREFIX = "gantry-check.";

/** Bundles left behind by a check that was killed (its pid is gone). */
function removeAbandonedBundles() {
  for (const file of readdirSync(platform)) {
    const pid = Number(file.slice(BUNDLE_PREFIX.length, -".mjs".length));
    if (!file.startsWith(BUNDLE_PREFIX) || !file.endsWith(".mjs") || !Number.isInteger(pid)) continue;
    try {
      process.kill(pid, 0);
    } catch (error) {
      if (error.code === "ESRCH") rmSync(join(platform, file), { force: true });
    }
  }
}

/** JSON for resource inputs: assets become their path, anything unserialisable is named. */
function serialisable(value) {
  return JSON.parse(
    JSON.stringify(value, (_key, item) => {
      if (item instanceof Promise) return "[promise]";
      if (typeof item === "function") return "[function]";
      if (typeof item === "bigint") return item.toString();
      return item;
    }),
  );
}

async function check(argv) {
  const started = performance.now();
  const options = parseArgs(argv);
  const installMs = await install();

  process.setSourceMapsEnabled(true);
  loadEnvFiles(options.stage);

  const resources = [];
  const invokes = [];
  const errors = [];
  const calls = { rpc: [], handlers: [] };
  const parents = new Map();
  /** Each resource's options object: SST's transformations (registered after ours) set `retainOnDelete` on it. */
  const resourceOptions = new Map();

  const bundleStarted = performance.now();
  removeAbandonedBundles();
  const outfile = join(platform, `${BUNDLE_PREFIX}${process.pid}.mjs`);
  let rpc;
  const cleanUp = () => {
    rpc?.close();
    const work = globalThis.__gantrySstCheck?.cli?.paths.work;
    if (work) rmSync(work, { recursive: true, force: true });
    rmSync(outfile, { force: true });
  };
  // Interrupted, the bundle would stay in .sst/platform; the report is not needed then.
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      cleanUp();
      process.exit(130);
    });
  }
  let bundleMs;
  let evaluateMs;
  let outputs;
  let app;
  try {
    await bundleConfig(outfile);
    bundleMs = performance.now() - bundleStarted;

    const evaluateStarted = performance.now();
    const pulumi = createRequire(join(platform, "package.json"))("@pulumi/pulumi");
    globalThis.__gantrySstCheck = { app: { name: "unknown", stage: options.stage }, cli: undefined };
    const module = await import(pathToFileURL(outfile).href);
    const config = module.default;

    // What `sst` computes from app() before it runs anything (project.go's App).
    const appConfig = await config.app({ stage: options.stage });
    const providers = Object.fromEntries(
      Object.entries(appConfig.providers ?? {}).map(([name, value]) => [
        name,
        typeof value === "string" ? {} : value,
      ]),
    );
    app = {
      name: appConfig.name,
      stage: options.stage,
      removal: appConfig.removal ?? "retain",
      protect: appConfig.protect ?? false,
      home: appConfig.home,
      providers,
    };
    const region = providers.aws?.region ?? "us-east-1";
    rpc = await startRpcServer({ region, allowMissingHandlers: options.allowMissingHandlers, calls, errors });
    process.env.SST_SERVER = rpc.url;
    globalThis.__gantrySstCheck.app = app;
    globalThis.__gantrySstCheck.cli = {
      command: "deploy",
      dev: false,
      rpc: rpc.url,
      paths: {
        home: join(homedir(), ".config", "sst"),
        root,
        work: mkdtempSync(join(tmpdir(), "gantry-sst-work-")),
        platform,
      },
      state: { version: {} },
    };

    // Errors thrown in apply() callbacks (bad config, unmocked calls) surface only here.
    process.on("unhandledRejection", (reason) => {
      const message = reason?.stack ?? String(reason);
      if (!errors.includes(message)) errors.push(message);
    });
    await pulumi.runtime.setMocks(
      createMocks({ region, resources, invokes, errors }),
      app.name,
      app.stage,
      false,
    );

    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
      // Record each resource's parent: the tree shows which component created what.
      pulumi.runtime.registerStackTransformation((args) => {
        parents.set(`${args.type}::${args.name}`, args.opts.parent?.__name);
        resourceOptions.set(`${args.type}::${args.name}`, args.opts);
        return undefined;
      });
      return module.run(config.run);
    });

    // Resources created inside apply() callbacks (the Lambda function, its code object, the invoke
    // config) register after the program returns: wait until several rounds bring nothing new.
    // A failed Output never settles its dependants, so stop early once an error has been seen.
    const settleBy = Date.now() + SETTLE_TIMEOUT_MS;
    for (let quiet = 0, seen = -1; quiet < (errors.length > 0 ? 2 : 4); ) {
      if (Date.now() > settleBy) {
        errors.push(
          `the program did not settle within ${SETTLE_TIMEOUT_MS} ms (${resources.length} resources)`,
        );
        break;
      }
      await Promise.race([pulumi.runtime.waitForRPCs(), new Promise((done) => setTimeout(done, 250))]);
      await new Promise((done) => setTimeout(done, 20));
      quiet = seen === resources.length && !rpc.busy() ? quiet + 1 : 0;
      seen = resources.length;
    }
    if (errors.length > 0) throw new CheckFailed();
    // An Output whose inputs failed never resolves: bound the wait so a broken program fails the
    // check with a message instead of hanging it (and CI with it).
    outputs = await Promise.race([
      new Promise((done) => pulumi.output(stackOutputs ?? {}).apply(done)),
      new Promise((_, fail) =>
        setTimeout(
          () => fail(new Error(`the stack outputs did not resolve within ${SETTLE_TIMEOUT_MS} ms`)),
          SETTLE_TIMEOUT_MS,
        ).unref(),
      ),
    ]);
    if (pulumi.log.hasErrors()) errors.push("Pulumi logged errors (see above)");
    evaluateMs = performance.now() - evaluateStarted;
  } catch (error) {
    // esbuild's errors already name file, line and column; its stack adds nothing.
    if (Array.isArray(error?.errors)) errors.push(error.message);
    else if (!(error instanceof CheckFailed)) errors.push(error?.stack ?? String(error));
  } finally {
    cleanUp();
  }

  const totalMs = performance.now() - started;
  const report = serialisable({
    sst: sstVersion(),
    app,
    timings: {
      installMs: Math.round(installMs),
      bundleMs: bundleMs === undefined ? null : Math.round(bundleMs),
      evaluateMs: evaluateMs === undefined ? null : Math.round(evaluateMs),
      totalMs: Math.round(totalMs),
    },
    errors,
    outputs: outputs ?? null,
    handlers: calls.handlers,
    rpc: calls.rpc,
    invokes: [...new Set(invokes.map((invoke) => invoke.token))].sort(),
    resources: resources.map((resource) => ({
      type: resource.type,
      name: resource.name,
      parent: parents.get(`${resource.type}::${resource.name}`) ?? null,
      retainOnDelete: resourceOptions.get(`${resource.type}::${resource.name}`)?.retainOnDelete ?? null,
      inputs: resource.inputs,
    })),
  });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (options.out) writeFileSync(resolve(options.out), json);
  else process.stdout.write(json);

  for (const error of errors) log(`error: ${error}`);
  log(
    `check ${errors.length === 0 ? "passed" : "failed"}: ${resources.length} resources, stage ${options.stage}, ` +
      `${report.timings.totalMs} ms (install ${report.timings.installMs}, bundle ${report.timings.bundleMs}, ` +
      `evaluate ${report.timings.evaluateMs})`,
  );
  return errors.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------

const commands = {
  install: async () => {
    const ms = await install();
    log(ms === 0 ? ".sst/platform is up to date" : `installed in ${Math.round(ms)} ms`);
    return 0;
  },
  typecheck,
  check,
};

const [command, ...rest] = process.argv.slice(2);
let code;
try {
  const run = commands[command];
  if (run === undefined)
    throw new UsageError(`usage: node scripts/sst.mjs <${Object.keys(commands).join("|")}>`);
  code = await run(rest);
} catch (error) {
  log(error instanceof UsageError ? error.message : (error?.stack ?? String(error)));
  code = error instanceof UsageError ? 2 : 1;
}
// Pulumi's leak detector reports pending promises on exit; the report is written, so drop it.
process.removeAllListeners("exit");
process.exit(code);
