// Exercises: atob/btoa: round trip of Latin-1 text, binary bytes via
// String.fromCharCode, padding variants, ASCII whitespace in atob input, invalid
// characters and bad length (InvalidCharacterError), btoa of non-Latin-1
// (InvalidCharacterError), and argument coercion (null, undefined, numbers).
export const requests = [{ name: "base64", path: "/" }];

function attempt(fn) {
  try {
    return fn();
  } catch (e) {
    return `throws ${e.name}${e instanceof DOMException ? " (DOMException)" : ""}`;
  }
}

export default {
  async fetch() {
    const bytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    return Response.json({
      hello: btoa("Hello, World!"),
      back: atob("SGVsbG8sIFdvcmxkIQ=="),
      latin1: btoa("caf\u00e9"),
      allBytes: btoa(bytes),
      allBytesRoundTrip: atob(btoa(bytes)) === bytes,
      noPadding: attempt(() => atob("YQ")),
      onePad: attempt(() => atob("YWI=")),
      whitespace: attempt(() => atob(" Y W J j\n\t")),
      badChar: attempt(() => atob("YW*j")),
      badLength: attempt(() => atob("YWJjZ")),
      badPadding: attempt(() => atob("YQ===")),
      nonLatin1: attempt(() => btoa("\u2603")),
      nullArg: attempt(() => btoa(null)),
      undefinedArg: attempt(() => btoa(undefined)),
      numberArg: attempt(() => atob(1234)),
      noArg: attempt(() => atob()),
    });
  },
};
