/**
 * Secrets live in linked SST secrets (encrypted into the function's bundle, read through SST's
 * `Resource`), never in environment variables, which anyone allowed to read the function's
 * configuration could read (https://sst.dev/docs/component/secret/).
 */
export type NamedSecretReader = (name: string) => string | undefined;

/**
 * Reads linked secrets from SST's `Resource`; pass it in from the function file, so the runtime
 * itself never imports the SST SDK. An unlinked or empty secret reads as unset.
 */
export function sstSecretReader(resource: unknown): NamedSecretReader {
  return (name) => {
    try {
      const value = (resource as Record<string, { value?: unknown } | undefined>)[name]?.value;
      return typeof value === "string" && value !== "" ? value : undefined;
    } catch {
      // SST's Resource throws for a name that is not linked.
      return undefined;
    }
  };
}
