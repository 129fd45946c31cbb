// Exercises: TextEncoderStream (strings in, UTF-8 bytes out, a surrogate pair split
// across two writes) and TextDecoderStream (a multi-byte character split across
// chunks), collecting the chunks with a reader and reporting them.
export const requests = [{ name: "text streams", path: "/" }];

async function collect(readable) {
  const out = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

export default {
  async fetch() {
    const encStream = new TextEncoderStream();
    const writer = encStream.writable.getWriter();
    const encoded = collect(encStream.readable);
    await writer.write("a\u00e9");
    await writer.write("\ud83d");
    await writer.write("\ude00b");
    await writer.close();
    const encChunks = (await encoded).map((c) => [...c]);

    const decStream = new TextDecoderStream();
    const dw = decStream.writable.getWriter();
    const decoded = collect(decStream.readable);
    const euro = [0xe2, 0x82, 0xac];
    await dw.write(new Uint8Array([0x41, euro[0]]));
    await dw.write(new Uint8Array([euro[1]]));
    await dw.write(new Uint8Array([euro[2], 0x42]));
    await dw.close();
    return Response.json({
      encoding: encStream.encoding,
      decoding: decStream.encoding,
      encChunks,
      encJoined: encChunks.flat(),
      decoded: (await decoded).join(""),
    });
  },
};
