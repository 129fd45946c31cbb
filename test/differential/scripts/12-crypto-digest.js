// Exercises: crypto.subtle.digest with SHA-1, SHA-256, SHA-384 and SHA-512 over a
// fixed input (hex output), the empty input, an ArrayBuffer view with an offset,
// an algorithm given as an object, and an unknown algorithm (NotSupportedError).
export const requests = [{ name: "digests", path: "/" }];

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export default {
  async fetch() {
    const input = new TextEncoder().encode("The quick brown fox jumps over the lazy dog");
    const out = {};
    for (const alg of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) out[alg] = hex(await crypto.subtle.digest(alg, input));
    out.empty = hex(await crypto.subtle.digest("SHA-256", new Uint8Array(0)));
    out.objectAlg = hex(await crypto.subtle.digest({ name: "sha-256" }, input));
    out.view = hex(await crypto.subtle.digest("SHA-256", new Uint8Array(input.buffer, 4, 5)));
    try {
      await crypto.subtle.digest("SHA-3-256", input);
      out.unknown = "accepted";
    } catch (e) {
      out.unknown = e.name;
    }
    return Response.json(out);
  },
};
