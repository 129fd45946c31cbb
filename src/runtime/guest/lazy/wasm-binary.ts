/** Lazy part "wasm-binary": the WebAssembly binary reader and rewriter, loaded when a function first compiles a module. */
export { exposeMemories } from "../wasm/binary.ts";
