/**
 * Plain-data HTTP messages: what crosses the isolate bridge, the child-process
 * host and the converters. Header names are lowercase; order and repeats kept.
 */

export type HeaderList = Array<[name: string, value: string]>;

/** A body is absent, fully buffered, or a stream of chunks read once. */
export type BodyData = Uint8Array | AsyncIterable<Uint8Array> | null;

export interface RequestData {
  method: string;
  /** Absolute URL, e.g. `https://example.com/path?x=1`. */
  url: string;
  headers: HeaderList;
  body: BodyData;
}

export interface ResponseData {
  status: number;
  statusText: string;
  headers: HeaderList;
  body: BodyData;
}

export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k === lower) return v;
  return undefined;
}

/** Reads a whole body into one buffer. */
export async function readBody(body: BodyData): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  return concatBytes(chunks, length);
}

/** The chunks as one array (`length`: their total, when the caller has counted it). */
export function concatBytes(chunks: readonly Uint8Array[], length = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
