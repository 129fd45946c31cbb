/**
 * Runs the same node:crypto calls against any implementation: Node's own on the
 * host, and verge's polyfill inside the isolate (bundled into a Worker that
 * imports this file). Cases and results are plain JSON, so the two sides are
 * compared value by value. No imports: the code must run unchanged in both.
 */

/** A value as a case spells it: JSON as is, bytes as `{ $bytes: hex, $type }`, undefined as `{ $undefined: true }`. */
export type CaseValue = unknown;

export type Case =
  /** Calls crypto[fn](...args) and records the result or the error. */
  | { call: string; args: CaseValue[] }
  /** Same, with a callback appended: records what it was called with (or the synchronous throw). */
  | { callback: string; args: CaseValue[] }
  /**
   * Creates an object with crypto[make](...args), then runs steps on it: `[i, method, ...args]`
   * calls objects[i][method](...args); a result that is a new object (copy()) joins `objects`.
   */
  | { make: string; args: CaseValue[]; steps: [number, string, ...CaseValue[]][] };

interface BufferLike {
  from(data: unknown, encoding?: string): Uint8Array & { toString(encoding?: string): string };
  isBuffer(value: unknown): boolean;
}

type Crypto = Record<string, (...args: unknown[]) => unknown>;

function hexOf(Buffer: BufferLike, bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Turns a case's value into the argument to pass. */
function decode(Buffer: BufferLike, value: CaseValue): unknown {
  if (Array.isArray(value)) return value.map((v) => decode(Buffer, v));
  if (typeof value !== "object" || value === null) return value;
  const v = value as Record<string, unknown>;
  if (v.$undefined === true) return undefined;
  if (typeof v.$bytes === "string") {
    const bytes = Buffer.from(v.$bytes, "hex");
    // Copied into a fresh ArrayBuffer with room around it, so views with an offset are tested too.
    const backing = new ArrayBuffer(bytes.byteLength + 8);
    new Uint8Array(backing, 4, bytes.byteLength).set(bytes);
    switch (v.$type) {
      case "Buffer":
        return Buffer.from(bytes);
      case "Uint8Array":
        return new Uint8Array(backing, 4, bytes.byteLength);
      case "DataView":
        return new DataView(backing, 4, bytes.byteLength);
      case "Uint16Array":
        return new Uint16Array(backing, 4, bytes.byteLength / 2);
      case "ArrayBuffer":
        return backing.slice(4, 4 + bytes.byteLength);
      default:
        throw new Error(`unknown $type ${String(v.$type)}`);
    }
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(Buffer, x)]));
}

/** What a call gave, as JSON both sides can produce. */
function encode(Buffer: BufferLike, value: unknown): unknown {
  if (value === undefined) return { $undefined: true };
  if (Buffer.isBuffer(value)) return { $buffer: hexOf(Buffer, value as Uint8Array) };
  if (value instanceof ArrayBuffer) return { $arrayBuffer: hexOf(Buffer, new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { $view: value.constructor.name, hex: hexOf(Buffer, new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (typeof value === "function") return { $function: value.name };
  if (Array.isArray(value)) return value.map((v) => encode(Buffer, v));
  if (typeof value === "object" && value !== null) return { $object: value.constructor?.name };
  return value;
}

function encodeError(err: unknown): unknown {
  const e = err as { name?: string; code?: string; message?: string; constructor?: { name?: string } };
  return { $error: { class: e?.constructor?.name, name: e?.name, code: e?.code ?? null, message: e?.message } };
}

async function runOne(crypto: Crypto, Buffer: BufferLike, c: Case): Promise<unknown> {
  if ("call" in c) {
    try {
      return encode(Buffer, crypto[c.call]!(...(decode(Buffer, c.args) as unknown[])));
    } catch (err) {
      return encodeError(err);
    }
  }
  if ("callback" in c) {
    try {
      return await new Promise((resolve) => {
        const sync = crypto[c.callback]!(...(decode(Buffer, c.args) as unknown[]), (err: unknown, result: unknown) => {
          resolve({ callbackError: err === null ? null : encodeError(err), result: encode(Buffer, result) });
        });
        if (sync !== undefined) resolve({ returned: encode(Buffer, sync) });
      });
    } catch (err) {
      return { thrown: encodeError(err) };
    }
  }
  const out: unknown[] = [];
  let objects: Array<Record<string, (...args: unknown[]) => unknown>>;
  try {
    objects = [crypto[c.make]!(...(decode(Buffer, c.args) as unknown[])) as Record<string, (...args: unknown[]) => unknown>];
  } catch (err) {
    return { make: encodeError(err) };
  }
  for (const [index, method, ...args] of c.steps) {
    const target = objects[index]!;
    try {
      const result = target[method]!(...(decode(Buffer, args) as unknown[]));
      if (result === target) out.push("this");
      else if (typeof result === "object" && result !== null && !ArrayBuffer.isView(result)) {
        objects.push(result as Record<string, (...args: unknown[]) => unknown>);
        out.push(`object ${objects.length - 1}`);
      } else out.push(encode(Buffer, result));
    } catch (err) {
      out.push(encodeError(err));
    }
  }
  return out;
}

/** Runs every case in order; one result per case. */
export async function runCases(crypto: Crypto, Buffer: BufferLike, cases: Case[]): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const c of cases) results.push(await runOne(crypto, Buffer, c));
  return results;
}
