export { openEdgeStore } from "./lmdb.ts";
export type { EdgeStoreOptions } from "./lmdb.ts";
export type { EdgeStore, EdgeTable, TableName, BytesTableName, RangeOptions } from "./store.ts";
