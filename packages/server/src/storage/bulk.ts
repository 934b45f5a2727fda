// Shared pieces of the bulk copy (BulkCopy in ports.ts): cursors are the last
// record's key, as a JSON array, opaque to callers and read back by the store
// that wrote them.

/** The cursor after a record with this key. */
export function cursorOf(key: readonly (string | number)[]): string {
  return JSON.stringify(key);
}

/** The key a cursor names, checked to have `length` parts; a cursor of another store's making is a bug, so it throws. */
export function keyOf(cursor: string, length: number): string[] {
  const key: unknown = JSON.parse(cursor);
  if (!Array.isArray(key) || key.length !== length || !key.every((k) => typeof k === 'string' || typeof k === 'number')) throw new Error(`bulk copy: not a cursor of this table: ${cursor}`);
  return key.map(String);
}

/** The page a store returns: `next` only when the page was full (there may be more). */
export function page<T>(records: T[], limit: number, key: (last: T) => readonly (string | number)[]): { records: T[]; next?: string } {
  const last = records.at(-1);
  return records.length === limit && last !== undefined ? { records, next: cursorOf(key(last)) } : { records };
}
