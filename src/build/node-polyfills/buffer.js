/**
 * verge's `node:buffer` for `nodejs_compat`: the buffer package (feross), with
 * the `base64url` encoding Node has had since v15 and the package lacks (JWTs
 * and WebAuthn use it). The package already decodes both base64 alphabets
 * under "base64", as Node does, so decoding maps base64url to base64 and
 * encoding turns base64's output into the URL-safe alphabet without padding.
 */
import * as pkg from "buffer/index.js";

export * from "buffer/index.js";
const { Buffer } = pkg;

const isUrl = (encoding) => typeof encoding === "string" && encoding.toLowerCase() === "base64url";
const decodeAs = (encoding) => (isUrl(encoding) ? "base64" : encoding);
const toUrl = (base64) => base64.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");

const { from, byteLength, isEncoding } = Buffer;
Buffer.from = function (value, encodingOrOffset, length) {
  return typeof value === "string" ? from.call(this, value, decodeAs(encodingOrOffset)) : from.call(this, value, encodingOrOffset, length);
};
Buffer.byteLength = function (string, encoding) {
  return byteLength.call(this, string, decodeAs(encoding));
};
Buffer.isEncoding = function (encoding) {
  return isUrl(encoding) || isEncoding.call(this, encoding);
};

const proto = Buffer.prototype;
const { toString, write, fill } = proto;
proto.toString = function (encoding, start, end) {
  return isUrl(encoding) ? toUrl(toString.call(this, "base64", start, end)) : Reflect.apply(toString, this, arguments);
};
proto.toLocaleString = proto.toString;
/** `native` with its encoding argument (the last string argument after the first) read as `decodeAs` reads it. */
function decodingLastEncoding(native) {
  return function (...args) {
    // write(s, enc), write(s, off, enc), write(s, off, len, enc); fill(v, enc), fill(v, off, enc), fill(v, off, end, enc).
    for (let i = args.length - 1; i > 0; i--) {
      if (typeof args[i] === "string") {
        args[i] = decodeAs(args[i]);
        break;
      }
    }
    return Reflect.apply(native, this, args);
  };
}
proto.write = decodingLastEncoding(write);
proto.fill = decodingLastEncoding(fill);

export { Buffer };
export default { ...pkg, Buffer };
