/**
 * Where an upload in progress is remembered across page reloads: the caller chooses
 * (`localStorage` in a browser, anything with the same three methods elsewhere).
 * Only the upload token and plan are stored, never file content.
 */
export interface ResumeStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export interface ResumeRecord {
  v: 1;
  token: string;
  key: string;
  uploadId: string;
  size: number;
  partSize: number;
  partCount: number;
  contentType: string;
  expiresAt: string;
}

export function memoryResumeStore(): ResumeStore & { readonly entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return {
    entries,
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => {
      entries.set(key, value);
    },
    removeItem: (key) => {
      entries.delete(key);
    },
  };
}

export async function readResumeRecord(store: ResumeStore, key: string): Promise<ResumeRecord | undefined> {
  try {
    const text = await store.getItem(key);
    if (!text) return undefined;
    const record = JSON.parse(text) as Partial<ResumeRecord>;
    const valid =
      record.v === 1 &&
      typeof record.token === "string" &&
      typeof record.key === "string" &&
      typeof record.uploadId === "string" &&
      typeof record.expiresAt === "string" &&
      [record.size, record.partSize, record.partCount].every((value) => Number.isSafeInteger(value));
    return valid ? (record as ResumeRecord) : undefined;
  } catch {
    // A corrupt entry only means starting over.
    return undefined;
  }
}
