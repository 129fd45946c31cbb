// Exercises: TextDecoder: UTF-8 with and without fatal (invalid bytes -> U+FFFD or
// TypeError), ignoreBOM, BOM stripping, streaming decode with {stream:true} across
// a split code point, utf-16le, label normalization, unknown label (RangeError),
// and TextEncoder.encodeInto.
export const requests = [{ name: "decoders", path: "/" }];

function attempt(fn) {
  try {
    return fn();
  } catch (e) {
    return `throws ${e.name}`;
  }
}

export default {
  async fetch() {
    const invalid = new Uint8Array([0x61, 0xff, 0x62, 0xc3]);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]);
    const streaming = new TextDecoder();
    const part1 = streaming.decode(new Uint8Array([0xe2, 0x82]), { stream: true });
    const part2 = streaming.decode(new Uint8Array([0xac]));
    const target = new Uint8Array(5);
    const into = new TextEncoder().encodeInto("a\u00e9\u20ac", target);
    return Response.json({
      lenient: new TextDecoder().decode(invalid),
      fatal: attempt(() => new TextDecoder("utf-8", { fatal: true }).decode(invalid)),
      fatalValid: attempt(() => new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array([0xe2, 0x98, 0x83]))),
      fatalFlag: new TextDecoder("utf-8", { fatal: true }).fatal,
      bomStripped: new TextDecoder().decode(bom),
      bomKept: new TextDecoder("utf-8", { ignoreBOM: true }).decode(bom).length,
      streamed: [part1, part2],
      utf16: attempt(() => new TextDecoder("utf-16le").decode(new Uint8Array([0x68, 0x00, 0x69, 0x00]))),
      label: new TextDecoder(" UTF8 ").encoding,
      unknown: attempt(() => new TextDecoder("no-such-encoding")),
      empty: new TextDecoder().decode(),
      encodeInto: [into.read, into.written, [...target]],
      encoderEncoding: new TextEncoder().encoding,
      loneSurrogate: [...new TextEncoder().encode("\ud800")],
    });
  },
};
