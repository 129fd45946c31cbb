/**
 * Lazy part "fflate": the deflate engines behind CompressionStream and
 * DecompressionStream. fflate builds its Huffman tables when its module
 * evaluates (~30 ms of CPU), so only an isolate that compresses pays it.
 */
// The eager prelude, so esbuild puts it in one shared module that every part links to (src/build/prelude.ts).
import "../index.ts";
export { Deflate, Gunzip, Gzip, Inflate, Unzlib, Zlib } from "fflate";
