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

/**
 * A `Response` whose parts a proxy already holds as plain data. Building a web
 * `Response` and reading it back (Headers iteration, a body stream) costs more
 * than serving a cached object; a response made by {@link partsResponse}
 * answers {@link partsOf} with the parts it was made from, so the next step
 * works on them directly. The registry is by identity: a response read by
 * anyone (its stream or its `Headers` changed) must not be handed to
 * `partsOf` afterwards, and responses made otherwise answer undefined.
 */
export interface ResponseParts {
  status: number;
  statusText: string;
  headers: HeaderList;
  /** The whole body in memory, or null for none. */
  body: Uint8Array | null;
}

/**
 * Where a response made by {@link partsResponse} keeps its parts: a property
 * under a module-private symbol (cheaper to set and to collect than a
 * WeakMap entry per response; nothing outside this module can name it).
 */
const PARTS = Symbol("verge.responseParts");
type WithParts = Response & { [PARTS]?: ResponseParts };

/** Statuses whose responses never carry a body (fetch spec "null body status"). */
export function isNullBodyStatus(status: number): boolean {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node's HTTP writer accepts in a value (it throws on anything else, after the status line is chosen). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Headers for a `Response` init: a plain object when no line repeats a
 * `Set-Cookie` (lines of other names are joined with ", ", as `Headers` does),
 * else a `Headers`, which keeps each cookie on its own line. Names and values
 * are checked here, so a bad one throws now (as `Headers` would) rather than
 * when the server writes the response: the plain object is handed to the
 * server's writer as it is.
 */
export function headersInit(list: HeaderList): Record<string, string> | Headers {
  // A plain literal stays a fast-properties object (a null-prototype one does
  // not); the one name that would reach its prototype takes the Headers path.
  const out: Record<string, string> = {};
  let cookies = 0;
  for (const [name, value] of list) {
    if ((name === "set-cookie" && ++cookies > 1) || name === "__proto__" || !TOKEN.test(name) || !FIELD_VALUE.test(value)) return toHeaders(list);
    const v = value.trim();
    out[name] = Object.hasOwn(out, name) ? `${out[name]}, ${v}` : v;
  }
  return out;
}

function toHeaders(list: HeaderList): Headers {
  const h = new Headers();
  for (const [name, value] of list) h.append(name, value);
  return h;
}

/**
 * @param init `headersInit(parts.headers)`, when the caller already has it
 *   (made once for headers it serves many times); it must be exactly that.
 */
export function partsResponse(parts: ResponseParts, init: Record<string, string> | Headers = headersInit(parts.headers)): Response {
  const body = isNullBodyStatus(parts.status) ? null : parts.body;
  const response: WithParts = new Response(body as ConstructorParameters<typeof Response>[0], {
    status: parts.status,
    statusText: parts.statusText,
    headers: init,
  });
  response[PARTS] = body === parts.body ? parts : { ...parts, body };
  return response;
}

/** The parts `response` was made from by {@link partsResponse}, else undefined. */
export function partsOf(response: Response): ResponseParts | undefined {
  return (response as WithParts)[PARTS];
}

/** Node's `rawHeaders` ([name, value, name, value, ...]) as a list with lowercase names. */
export function headerLines(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}
