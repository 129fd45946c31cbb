/**
 * fflate's DEFLATE, loaded by zlib-deflate.js with require() on the first
 * compression: fflate builds its Huffman tables when its module evaluates
 * (about 10 ms of CPU in an isolate, more on a busy machine), which a Worker
 * that imports node:zlib would otherwise pay at every cold start, whether it
 * compresses or not. esbuild bundles a required ES module behind a lazy
 * initializer, and keeps only this export of fflate.
 */
export { Deflate } from "fflate";
