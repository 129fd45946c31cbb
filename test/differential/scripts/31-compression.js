// Exercises: CompressionStream/DecompressionStream round trips for gzip, deflate
// and deflate-raw (compress then decompress a 10 KB text), the gzip magic bytes,
// the compressed output being smaller, corrupted input rejecting (TypeError), and
// an unsupported format (TypeError). Compressed bytes themselves are not compared:
// zlib settings legitimately differ between implementations.
export const requests = [{ name: "round trips", path: "/" }];

async function bytesOf(readable) {
  return new Uint8Array(await new Response(readable).arrayBuffer());
}

export default {
  async fetch() {
    const text = "All work and no play makes Jack a dull boy. ".repeat(230);
    const input = new TextEncoder().encode(text);
    const out = {};
    for (const format of ["gzip", "deflate", "deflate-raw"]) {
      const compressed = await bytesOf(new Blob([input]).stream().pipeThrough(new CompressionStream(format)));
      const restored = await new Response(new Blob([compressed]).stream().pipeThrough(new DecompressionStream(format))).text();
      out[format] = { smaller: compressed.length < input.length, roundTrip: restored === text, head: format === "gzip" ? [compressed[0], compressed[1], compressed[2]] : null };
    }
    try {
      await bytesOf(new Blob([new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7])]).stream().pipeThrough(new DecompressionStream("gzip")));
      out.corrupt = "no error";
    } catch (e) {
      out.corrupt = e.name;
    }
    try {
      new CompressionStream("brotli-9000");
      out.unsupported = "accepted";
    } catch (e) {
      out.unsupported = e.name;
    }
    return Response.json(out);
  },
};
