/**
 * Byte ranges (RFC 9110 §14) answered from a whole response: the node's cache
 * (serve.ts: a hit from the stored body, a miss by slicing the origin's body as
 * it streams) and the Workers Cache API's `match` (cache-api.ts) both use it.
 */
import { randomUUID } from "node:crypto";
import { concatBytes, type HeaderList } from "../../shared/http.ts";
import type { HeaderSource } from "./vary.ts";

export type ByteRange = [start: number, end: number];

/** A 206 or 416 in place of the whole response: the headers to add, and the body. */
export interface RangeAnswer {
  status: 206 | 416;
  /** `Content-Range` (one range or a 416), or the `multipart/byteranges` `Content-Type` (several). */
  headers: HeaderList;
  /** Replaces the response's own `Content-Type` (several ranges). */
  multipart: boolean;
  body: Uint8Array;
}

/**
 * RFC 9110 §14.1.2 byte ranges against a body of `size` bytes, in the order given:
 * undefined when the header is not a byte range (ignored: the whole response);
 * "unsatisfiable" when it is malformed or no range overlaps the body (416).
 */
export function parseRanges(value: string, size: number): ByteRange[] | "unsatisfiable" | undefined {
  const m = /^\s*bytes\s*=(.*)$/i.exec(value);
  if (m === null) return undefined;
  const out: ByteRange[] = [];
  for (const part of m[1]!.split(",")) {
    const spec = part.trim();
    if (spec === "") continue;
    const r = /^(\d*)\s*-\s*(\d*)$/.exec(spec);
    if (r === null || (r[1] === "" && r[2] === "")) return "unsatisfiable";
    if (r[1] === "") {
      const suffix = Number(r[2]);
      if (suffix > 0 && size > 0) out.push([Math.max(0, size - suffix), size - 1]);
      continue;
    }
    const start = Number(r[1]);
    const end = r[2] === "" ? size - 1 : Number(r[2]);
    if (end < start) return "unsatisfiable";
    if (start < size) out.push([start, Math.min(end, size - 1)]);
  }
  return out.length === 0 ? "unsatisfiable" : out;
}

/**
 * RFC 9110 §13.1.5: true when `If-Range` is absent, or names the response's
 * current representation: an entity tag compared strongly (a weak one never
 * matches), or an HTTP date equal to its `Last-Modified`.
 */
export function ifRangeAllows(ifRange: string | null, validators: { etag: string | null; lastModified: string | null }): boolean {
  if (ifRange === null) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith("W/")) {
    const etag = validators.etag?.trim();
    return etag !== undefined && !etag.startsWith("W/") && !value.startsWith("W/") && etag === value;
  }
  const date = Date.parse(value);
  const lastModified = validators.lastModified === null ? NaN : Date.parse(validators.lastModified);
  return Number.isFinite(date) && date === lastModified;
}

/**
 * The answer to a `Range` header against a whole body in memory: undefined when
 * the header is not a byte range (answer the whole response); a 416 with
 * `Content-Range: bytes *\/size`; a 206 with the one range, or with several as
 * `multipart/byteranges` (each part with the response's `Content-Type`).
 */
export function rangeAnswer(range: string, body: Uint8Array, contentType: string | undefined): RangeAnswer | undefined {
  const size = body.byteLength;
  const ranges = parseRanges(range, size);
  if (ranges === undefined) return undefined;
  if (ranges === "unsatisfiable") return { status: 416, headers: [["content-range", `bytes */${size}`]], multipart: false, body: new Uint8Array(0) };
  if (ranges.length === 1) {
    const [start, end] = ranges[0]!;
    return { status: 206, headers: [["content-range", `bytes ${start}-${end}/${size}`]], multipart: false, body: body.slice(start, end + 1) };
  }
  // RFC 9110 §14.6: one part per range, each with its Content-Type and Content-Range.
  const boundary = `verge-${randomUUID()}`;
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const [start, end] of ranges) {
    const head = `--${boundary}\r\n${contentType !== undefined ? `Content-Type: ${contentType}\r\n` : ""}Content-Range: bytes ${start}-${end}/${size}\r\n\r\n`;
    parts.push(enc.encode(head), body.subarray(start, end + 1), enc.encode("\r\n"));
  }
  parts.push(enc.encode(`--${boundary}--`));
  return { status: 206, headers: [["content-type", `multipart/byteranges; boundary=${boundary}`]], multipart: true, body: concatBytes(parts) };
}

/**
 * A Miss's answer to the viewer's `Range`. The origin was asked for the whole
 * body (fill.ts); a 200 of known length answers one byte range with a 206 sliced
 * from it as it streams, or a 416. Anything else (several ranges, no
 * Content-Length, another status, an `If-Range` that does not name it) is the
 * whole response, as RFC 9110 §14.2 allows. When the body fits the cache
 * (`objectLimit`) the rest of it is still read, so the entry is stored.
 */
export function rangeOfMiss(res: Response, viewer: HeaderSource, objectLimit: number): Response {
  const range = viewer.get("range");
  if (range === null || res.status !== 200 || res.body === null) return res;
  const size = Number(res.headers.get("content-length") ?? NaN);
  if (!Number.isSafeInteger(size) || size < 0) return res;
  if (!ifRangeAllows(viewer.get("if-range"), { etag: res.headers.get("etag"), lastModified: res.headers.get("last-modified") })) return res;
  const ranges = parseRanges(range, size);
  if (ranges === undefined || (ranges !== "unsatisfiable" && ranges.length > 1)) return res;
  const drain = size <= objectLimit;
  const headers = new Headers(res.headers);
  if (ranges === "unsatisfiable") {
    release(res.body.getReader(), drain);
    for (const name of ["content-type", "content-encoding", "content-length"]) headers.delete(name);
    headers.set("content-range", `bytes */${size}`);
    return new Response(null, { status: 416, statusText: "Range Not Satisfiable", headers });
  }
  const [start, end] = ranges[0]!;
  headers.set("content-range", `bytes ${start}-${end}/${size}`);
  headers.set("content-length", String(end - start + 1));
  return new Response(sliceStream(res.body, start, end, drain), { status: 206, statusText: "Partial Content", headers });
}

/** A body nobody reads any more: read to its end (a cache is filling from it), else cancelled. */
function release(reader: ReadableStreamDefaultReader<Uint8Array>, drain: boolean): void {
  if (!drain) {
    reader.cancel().catch(() => {});
    return;
  }
  const next = (): void => {
    reader.read().then((r) => (r.done ? undefined : next()), () => {});
  };
  next();
}

/**
 * Bytes `start..end` (inclusive) of a body as it streams; then the rest is
 * released (`drainRest`: read to its end, else cancelled). Cancelling the
 * result cancels the source.
 */
export function sliceStream(source: ReadableStream<Uint8Array>, start: number, end: number, drainRest: boolean): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let pos = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const r = await reader.read();
        if (r.done) {
          controller.close();
          return;
        }
        const from = pos;
        pos += r.value.byteLength;
        if (pos <= start) continue;
        const a = Math.max(0, start - from);
        const b = Math.min(r.value.byteLength, end + 1 - from);
        if (b > a) controller.enqueue(r.value.subarray(a, b));
        if (pos > end) {
          controller.close();
          release(reader, drainRest);
        }
        return;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
