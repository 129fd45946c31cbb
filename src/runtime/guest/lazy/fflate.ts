/**
 * Lazy part "fflate": the deflate engines behind CompressionStream and
 * DecompressionStream. fflate builds its Huffman tables when its module
 * evaluates (~30 ms of CPU), so only an isolate that compresses pays it.
 */
export { Deflate, Gunzip, Gzip, Inflate, Unzlib, Zlib } from "fflate";
