/**
 * multipart/form-data and application/x-www-form-urlencoded, both ways
 * (HTML "multipart/form-data encoding algorithm"; Fetch "formData()" parsing,
 * which follows RFC 7578).
 */
import { File } from "./blob.ts";
import { FormData, formEntries } from "./form-data.ts";
import { blobBytes } from "./blob.ts";
import { concatBytes, platform, utf8Decode, utf8Encode } from "./webidl.ts";

const CRLF = "\r\n";

// Names and filenames: as browsers and undici do, escape `"`, CR and LF.
function escapeName(s: string): string {
  return s.replace(/\n/g, "%0A").replace(/\r/g, "%0D").replace(/"/g, "%22");
}

function newBoundary(): string {
  let r = "";
  for (let i = 0; i < 24; i++) r += Math.floor(Math.random() * 16).toString(16);
  return `----VergeFormBoundary${r}`;
}

/** Serializes a FormData; returns the bytes and the content-type naming the boundary. */
export function serializeMultipart(form: FormData): { bytes: Uint8Array; type: string } {
  const boundary = newBoundary();
  const chunks: Uint8Array[] = [];
  for (const [name, value] of formEntries(form)) {
    let head = `--${boundary}${CRLF}Content-Disposition: form-data; name="${escapeName(name.replace(/\r\n?|\n/g, CRLF))}"`;
    if (typeof value === "string") {
      chunks.push(utf8Encode(`${head}${CRLF}${CRLF}${value.replace(/\r\n?|\n/g, CRLF)}${CRLF}`));
    } else {
      head += `; filename="${escapeName(value.name)}"${CRLF}Content-Type: ${value.type || "application/octet-stream"}${CRLF}${CRLF}`;
      chunks.push(utf8Encode(head), blobBytes(value), utf8Encode(CRLF));
    }
  }
  chunks.push(utf8Encode(`--${boundary}--${CRLF}`));
  return { bytes: concatBytes(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** A parameter of a Content-Type value (`boundary`), quoted or not. */
export function mimeParam(contentType: string, param: string): string | null {
  const re = new RegExp(`;\\s*${param}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i");
  const m = re.exec(contentType);
  if (m === null) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? null);
}

export function mimeEssence(contentType: string | null): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

function bad(why: string): TypeError {
  return new TypeError(`Could not parse content as FormData: ${why}`);
}

/** Parses a multipart/form-data body. Malformed input is a TypeError. */
export function parseMultipart(body: Uint8Array, boundary: string): FormData {
  const form = new FormData();
  const delim = utf8Encode(`--${boundary}`);
  let at = indexOf(body, delim, 0);
  if (at === -1) throw bad("the boundary was not found");
  for (;;) {
    at += delim.length;
    // "--" after a delimiter closes the body.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return form;
    // Transport padding, then CRLF.
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw bad("expected CRLF after the boundary");
    at += 2;
    const headEnd = indexOf(body, utf8Encode("\r\n\r\n"), at);
    if (headEnd === -1) throw bad("unterminated part headers");
    const headers = latin1(body.subarray(at, headEnd)).split(CRLF);
    const next = indexOf(body, utf8Encode(`\r\n--${boundary}`), headEnd + 4);
    if (next === -1) throw bad("missing closing boundary");
    const content = body.subarray(headEnd + 4, next);
    let name: string | null = null;
    let filename: string | null = null;
    let type = "text/plain";
    for (const line of headers) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const key = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (key === "content-disposition") {
        if (mimeEssence(value) !== "form-data") throw bad("a part is not form-data");
        const n = mimeParam(value, "name");
        const f = mimeParam(value, "filename");
        // Header bytes are UTF-8 in practice: re-decode the latin1 view.
        name = n === null ? null : utf8Decode(Uint8Array.from(n, (c) => c.charCodeAt(0)));
        filename = f === null ? null : utf8Decode(Uint8Array.from(f, (c) => c.charCodeAt(0)));
      } else if (key === "content-type") {
        type = value;
      }
    }
    if (name === null) throw bad("a part has no name");
    if (filename !== null) form.append(name, new File([content], filename, { type }));
    else form.append(name, utf8Decode(content));
    at = next + 2;
  }
}

/** application/x-www-form-urlencoded body → FormData (through the platform URLSearchParams). */
export function parseUrlEncoded(text: string): FormData {
  const form = new FormData();
  for (const [k, v] of new (platform("URLSearchParams"))(text)) form.append(k, v);
  return form;
}
