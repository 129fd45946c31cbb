/**
 * Lazy part "html-rewriter": Workers' HTMLRewriter over lol-html compiled to WebAssembly
 * (html-rewriter-wasm's module, verge's own glue in ../html-rewriter/). Loading it gets the
 * module from the host (compiled once per process) and makes this isolate's first instance.
 */
export { HTMLRewriter } from "../html-rewriter/rewriter.ts";
