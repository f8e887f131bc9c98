/**
 * What can be uploaded: a `File`/`Blob` (browser or Node 20), bytes, or anything that can read a
 * byte range on demand (e.g. a Node file handle), so a large file is never held in memory whole.
 * Only the parts in flight are read: `concurrency × partSize` bytes at most.
 */
export interface RangeReader {
  size: number;
  /** Bytes `start` (inclusive) to `end` (exclusive). */
  read(start: number, end: number): Promise<Uint8Array>;
  name?: string;
  type?: string;
  lastModified?: number;
}

/** Structural, so the browser's `File` fits without DOM types. */
export interface BlobLike {
  size: number;
  type: string;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
  name?: string;
  lastModified?: number;
}

export type UploadSource = BlobLike | Uint8Array | ArrayBuffer | RangeReader;

export function toRangeReader(source: UploadSource): RangeReader {
  if (source instanceof ArrayBuffer) return toRangeReader(new Uint8Array(source));
  if (source instanceof Uint8Array) {
    return { size: source.byteLength, read: async (start, end) => source.subarray(start, end) };
  }
  if ("read" in source && typeof source.read === "function") return source;
  const blob = source as BlobLike;
  return {
    size: blob.size,
    read: async (start, end) => new Uint8Array(await blob.slice(start, end).arrayBuffer()),
    ...(blob.name !== undefined ? { name: blob.name } : {}),
    ...(blob.type ? { type: blob.type } : {}),
    ...(blob.lastModified !== undefined ? { lastModified: blob.lastModified } : {}),
  };
}
