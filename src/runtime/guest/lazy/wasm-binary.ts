/** Lazy part "wasm-binary": the WebAssembly binary reader and rewriter, loaded when a function first compiles a module. */
export { importMemories } from "../wasm/binary.ts";
