/** A reference from one botocore shape to another (`{"shape": "ServiceName"}`). */
export interface BotocoreShapeRef {
  shape: string;
}

/** The subset of a botocore `service-2.json` shape that the validator understands. */
export interface BotocoreShape {
  type:
    | "structure"
    | "list"
    | "map"
    | "string"
    | "integer"
    | "long"
    | "boolean"
    | "timestamp"
    | "double"
    | "float"
    | "blob";
  members?: Record<string, BotocoreShapeRef>;
  required?: string[];
  member?: BotocoreShapeRef;
  key?: BotocoreShapeRef;
  value?: BotocoreShapeRef;
  enum?: string[];
  pattern?: string;
  min?: number;
  max?: number;
  union?: boolean;
  exception?: boolean;
  fault?: boolean;
  error?: { httpStatusCode?: number };
}

export interface BotocoreOperation {
  name: string;
  input?: BotocoreShapeRef;
  output?: BotocoreShapeRef;
  errors?: BotocoreShapeRef[];
}

export interface BotocoreModel {
  metadata: { protocol: string; jsonVersion?: string; targetPrefix?: string; serviceId: string };
  operations: Record<string, BotocoreOperation>;
  shapes: Record<string, BotocoreShape>;
}

/** A correction to a shape the published model gets wrong; merged over the shape by name. */
export type ShapePatches = Record<string, Partial<BotocoreShape>>;

export interface ValidationIssue {
  /** Where the problem is, in member names: `SourceConfiguration.ImageRepository.ImageIdentifier`, `Tags[0].Key`. */
  path: string;
  message: string;
}

/** An error answered in the AWS JSON protocol: `__type` is `code`, the HTTP status is `statusCode`. */
export class AwsApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * A botocore JSON model used as a validator of wire values (the JSON bodies of the awsJson
 * protocols). The one validator: the local emulators check every request and response with it, and
 * the App Runner adapter checks a CreateService input with it before anything is deleted. It
 * checks structures with required members and no unknown members, lists, maps, strings with length,
 * pattern and enum, integers/longs/doubles with ranges, booleans, timestamps as epoch seconds (the
 * JSON protocols' default format).
 *
 * Patterns are matched against the whole value. Smithy says patterns are not implicitly anchored,
 * but an emulator that only checks for a matching substring would accept `my service!` as a
 * ServiceName; whole-value matching is the stricter reading and catches our own bugs.
 */
export class AwsModel {
  readonly #shapes: Record<string, BotocoreShape>;
  readonly #patterns = new Map<string, RegExp>();

  constructor(
    readonly json: BotocoreModel,
    patches: ShapePatches = {},
  ) {
    this.#shapes = { ...json.shapes };
    for (const [name, patch] of Object.entries(patches)) {
      this.#shapes[name] = { ...this.shape(name), ...patch };
    }
  }

  get targetPrefix(): string {
    return this.json.metadata.targetPrefix ?? this.json.metadata.serviceId;
  }

  get jsonVersion(): string {
    return this.json.metadata.jsonVersion ?? "1.0";
  }

  hasOperation(name: string): boolean {
    return Object.hasOwn(this.json.operations, name);
  }

  operation(name: string): BotocoreOperation {
    const operation = this.json.operations[name];
    if (!operation || !this.hasOperation(name)) throw new Error(`${this.targetPrefix}: no operation ${name}`);
    return operation;
  }

  shape(name: string): BotocoreShape {
    const shape = this.#shapes[name];
    if (!shape || !Object.hasOwn(this.#shapes, name))
      throw new Error(`${this.targetPrefix}: no shape ${name}`);
    return shape;
  }

  /** The error names the operation declares (`errors` in the model). */
  modeledErrors(operation: string): string[] {
    return (this.operation(operation).errors ?? []).map((ref) => ref.shape);
  }

  isModeledError(operation: string, code: string): boolean {
    return this.modeledErrors(operation).includes(code);
  }

  /** HTTP status of a modeled error: its `httpStatusCode`, else 500 for a `fault`, else 400. */
  errorStatus(code: string): number {
    const shape = this.#shapes[code];
    if (!shape?.exception) return 400;
    return shape.error?.httpStatusCode ?? (shape.fault ? 500 : 400);
  }

  /** A modeled error of this service, with the status the model gives it. */
  error(code: string, message: string): AwsApiError {
    if (!this.#shapes[code]?.exception)
      throw new Error(`${this.targetPrefix}: ${code} is not a modeled error`);
    return new AwsApiError(code, message, this.errorStatus(code));
  }

  validateInput(operation: string, value: unknown): ValidationIssue[] {
    const ref = this.operation(operation).input;
    return ref ? this.validate(ref.shape, value) : expectEmpty(value);
  }

  validateOutput(operation: string, value: unknown): ValidationIssue[] {
    const ref = this.operation(operation).output;
    return ref ? this.validate(ref.shape, value) : expectEmpty(value);
  }

  /** Checks `value` against the shape named `shapeName`; an empty list means valid. */
  validate(shapeName: string, value: unknown, path = ""): ValidationIssue[] {
    const shape = this.shape(shapeName);
    switch (shape.type) {
      case "structure":
        return this.#structure(shape, value, path);
      case "list":
        return this.#list(shape, value, path);
      case "map":
        return this.#map(shape, value, path);
      case "string":
        return this.#string(shapeName, shape, value, path);
      case "integer":
      case "long":
      case "double":
      case "float":
        return numberIssues(shape, value, path);
      case "boolean":
        return typeof value === "boolean" ? [] : [issue(path, `must be a boolean, got ${describe(value)}`)];
      case "timestamp":
        return typeof value === "number" && Number.isFinite(value)
          ? []
          : [issue(path, `must be a timestamp in epoch seconds, got ${describe(value)}`)];
      case "blob":
        return typeof value === "string"
          ? []
          : [issue(path, `must be a base64 string, got ${describe(value)}`)];
      default:
        return [issue(path, `has unsupported shape type ${String((shape as BotocoreShape).type)}`)];
    }
  }

  #structure(shape: BotocoreShape, value: unknown, path: string): ValidationIssue[] {
    if (!isPlainObject(value)) return [issue(path, `must be a structure, got ${describe(value)}`)];
    const members = shape.members ?? {};
    const issues: ValidationIssue[] = [];
    for (const name of shape.required ?? []) {
      if (value[name] === undefined) issues.push(issue(join(path, name), "is required"));
    }
    for (const [name, member] of Object.entries(value)) {
      if (member === undefined) continue;
      const ref = Object.hasOwn(members, name) ? members[name] : undefined;
      if (!ref) issues.push(issue(join(path, name), "is not a member of this structure"));
      else issues.push(...this.validate(ref.shape, member, join(path, name)));
    }
    if (shape.union && Object.keys(value).length !== 1)
      issues.push(issue(path, "must set exactly one member"));
    return issues;
  }

  #list(shape: BotocoreShape, value: unknown, path: string): ValidationIssue[] {
    if (!Array.isArray(value)) return [issue(path, `must be a list, got ${describe(value)}`)];
    const issues = sizeIssues(shape, value.length, path, "items");
    const member = shape.member?.shape ?? "";
    value.forEach((item, index) => {
      issues.push(...this.validate(member, item, `${path}[${index}]`));
    });
    return issues;
  }

  #map(shape: BotocoreShape, value: unknown, path: string): ValidationIssue[] {
    if (!isPlainObject(value)) return [issue(path, `must be a map, got ${describe(value)}`)];
    const entries = Object.entries(value);
    const issues = sizeIssues(shape, entries.length, path, "entries");
    for (const [key, item] of entries) {
      const at = `${path}[${JSON.stringify(key)}]`;
      issues.push(...this.validate(shape.key?.shape ?? "", key, `${at} (key)`));
      issues.push(...this.validate(shape.value?.shape ?? "", item, at));
    }
    return issues;
  }

  #string(name: string, shape: BotocoreShape, value: unknown, path: string): ValidationIssue[] {
    if (typeof value !== "string") return [issue(path, `must be a string, got ${describe(value)}`)];
    if (shape.enum && !shape.enum.includes(value)) {
      return [issue(path, `must be one of ${shape.enum.join(", ")}, got ${JSON.stringify(value)}`)];
    }
    // Smithy counts Unicode code points, not UTF-16 units.
    const issues = sizeIssues(shape, [...value].length, path, "characters");
    const pattern = this.#pattern(name, shape);
    if (pattern && !pattern.test(value)) {
      issues.push(issue(path, `must match the pattern ${shape.pattern}, got ${JSON.stringify(value)}`));
    }
    return issues;
  }

  #pattern(name: string, shape: BotocoreShape): RegExp | undefined {
    if (!shape.pattern) return undefined;
    let compiled = this.#patterns.get(name);
    if (!compiled) {
      // dotAll: the model's catch-all `.*` is meant to accept multi-line values too.
      compiled = new RegExp(`^(?:${shape.pattern})$`, "s");
      this.#patterns.set(name, compiled);
    }
    return compiled;
  }
}

/**
 * Corrections to the published App Runner model. `ServiceId` says length 32 but carries a UUID
 * pattern of 36 characters, so no value can satisfy both; real ids are 32 hex digits (AWS's own
 * sample events: `8fe1e10304f84fd2b0df550fe98a71fa`).
 */
export const APP_RUNNER_MODEL_PATCHES: ShapePatches = {
  ServiceId: { pattern: "[0-9a-f]{32}" },
};

/** A request and its answer as an emulator recorded it (see `EmulatorCall`). */
export interface RecordedCall {
  op: string;
  input: unknown;
  output?: unknown;
  error?: { code: string; message: string };
}

/**
 * Everything in `calls` that disagrees with the model: inputs that violate their shape yet were
 * answered successfully, outputs that violate theirs, errors the operation does not declare
 * (`unmodeled` lists the protocol-level codes allowed anyway, e.g. ThrottlingException, which App
 * Runner does not model but AWS sends, FACTS §3) and error bodies that violate the error shape.
 */
export function callViolations(
  model: AwsModel,
  calls: readonly RecordedCall[],
  unmodeled: readonly string[] = ["ThrottlingException"],
): string[] {
  return calls.flatMap((call, index) => {
    const where = `call ${index} ${call.op}`;
    if (!model.hasOperation(call.op)) return [`${where}: not an operation of ${model.targetPrefix}`];
    const inputIssues = model.validateInput(call.op, call.input);
    const found: string[] = [];
    if (inputIssues.length > 0 && !call.error)
      found.push(`${where}: invalid input answered: ${formatIssues(inputIssues)}`);
    if (call.output !== undefined) {
      const outputIssues = model.validateOutput(call.op, call.output);
      if (outputIssues.length > 0) found.push(`${where}: output ${formatIssues(outputIssues)}`);
    }
    if (call.error)
      found.push(
        ...errorViolations(model, call.op, call.error, unmodeled).map((text) => `${where}: ${text}`),
      );
    return found;
  });
}

function errorViolations(
  model: AwsModel,
  operation: string,
  error: { code: string; message: string },
  unmodeled: readonly string[],
): string[] {
  if (unmodeled.includes(error.code)) return [];
  if (!model.isModeledError(operation, error.code))
    return [`error ${error.code} is not modeled for ${operation}`];
  // Error shapes carry the text as `Message` (App Runner) or `message` (ECR).
  const member = Object.keys(model.shape(error.code).members ?? {}).find(
    (name) => name.toLowerCase() === "message",
  );
  const issues = member ? model.validate(error.code, { [member]: error.message }) : [];
  return issues.length > 0 ? [`error body ${formatIssues(issues)}`] : [];
}

/** `path: message; path: message`, the text put into an InvalidRequestException. */
export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((found) => `${found.path || "(input)"} ${found.message}`).join("; ");
}

function numberIssues(shape: BotocoreShape, value: unknown, path: string): ValidationIssue[] {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return [issue(path, `must be a number, got ${describe(value)}`)];
  }
  if (shape.type === "integer" && !(Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX)) {
    return [issue(path, `must be a 32-bit integer, got ${value}`)];
  }
  if (shape.type === "long" && !Number.isSafeInteger(value)) {
    return [issue(path, `must be an integer, got ${value}`)];
  }
  return sizeIssues(shape, value, path, "");
}

/** min/max: a length for strings, lists and maps, a value range for numbers. */
function sizeIssues(shape: BotocoreShape, size: number, path: string, unit: string): ValidationIssue[] {
  const suffix = unit ? ` ${unit}` : "";
  if (shape.min !== undefined && size < shape.min)
    return [issue(path, `must be at least ${shape.min}${suffix}, got ${size}`)];
  if (shape.max !== undefined && size > shape.max)
    return [issue(path, `must be at most ${shape.max}${suffix}, got ${size}`)];
  return [];
}

function expectEmpty(value: unknown): ValidationIssue[] {
  return isPlainObject(value) && Object.keys(value).length === 0
    ? []
    : [issue("", "must be an empty structure")];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function join(path: string, member: string): string {
  return path ? `${path}.${member}` : member;
}

function issue(path: string, message: string): ValidationIssue {
  return { path, message };
}
