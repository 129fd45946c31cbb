// Exercises: HMAC with crypto.subtle: importKey("raw") with a fixed key, sign
// SHA-256 (RFC 4231 test case 2) and SHA-512, verify true/false, exportKey round
// trip, and a key's algorithm/usages/extractable/type properties.
export const requests = [{ name: "hmac", path: "/" }];

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

export default {
  async fetch() {
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey("raw", enc.encode("Jefe"), { name: "HMAC", hash: "SHA-256" }, true, ["sign", "verify"]);
    const data = enc.encode("what do ya want for nothing?");
    const sig = await crypto.subtle.sign("HMAC", key, data);
    const key512 = await crypto.subtle.importKey("raw", enc.encode("Jefe"), { name: "HMAC", hash: { name: "SHA-512" } }, false, ["sign"]);
    const raw = await crypto.subtle.exportKey("raw", key);
    let exportNonExtractable;
    try {
      await crypto.subtle.exportKey("raw", key512);
      exportNonExtractable = "exported";
    } catch (e) {
      exportNonExtractable = e.name;
    }
    return Response.json({
      sha256: hex(sig),
      sha512: hex(await crypto.subtle.sign({ name: "HMAC" }, key512, data)),
      verifyGood: await crypto.subtle.verify("HMAC", key, sig, data),
      verifyBad: await crypto.subtle.verify("HMAC", key, sig, enc.encode("tampered")),
      exported: hex(raw),
      exportNonExtractable,
      algorithm: { name: key.algorithm.name, hash: key.algorithm.hash.name, length: key.algorithm.length },
      type: key.type,
      extractable: [key.extractable, key512.extractable],
      usages: key.usages,
      isCryptoKey: key instanceof CryptoKey,
    });
  },
};
