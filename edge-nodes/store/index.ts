export { openEdgeStore } from "./lmdb.ts";
export type { EdgeStoreOptions } from "./lmdb.ts";
export type { EdgeKv, EdgeKvRow, EdgeStore, EdgeTable, TableName, BytesTableName, RangeOptions } from "./store.ts";
