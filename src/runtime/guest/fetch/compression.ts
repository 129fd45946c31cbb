/**
 * CompressionStream and DecompressionStream (https://compression.spec.whatwg.org/)
 * for "gzip", "deflate" (zlib) and "deflate-raw", over fflate's synchronous
 * streaming classes. They extend TransformStream, as in Workers.
 */
import { chunk } from "../core/lazy.ts";
import { TransformStream } from "./streams.ts";
import type { TransformStreamDefaultController } from "./streams.ts";
import { copyOf, isBufferSource, tag } from "./webidl.ts";

export type CompressionFormat = "gzip" | "deflate" | "deflate-raw";

interface Engine {
  push(chunk: Uint8Array, final?: boolean): void;
}
type EngineCtor = new (cb: (data: Uint8Array, final: boolean) => void) => Engine;

// fflate builds its Huffman tables when its module evaluates (~30 ms of CPU): a lazy part of
// its own, so an isolate pays that only when it first compresses or decompresses.
let tables: { compress: Record<string, EngineCtor>; decompress: Record<string, EngineCtor> } | undefined;

function loadTables(): NonNullable<typeof tables> {
  if (tables === undefined) {
    const { Deflate, Gunzip, Gzip, Inflate, Unzlib, Zlib } = chunk("fflate") as unknown as Record<string, EngineCtor>;
    tables = {
      compress: { gzip: Gzip, deflate: Zlib, "deflate-raw": Deflate },
      decompress: { gzip: Gunzip, deflate: Unzlib, "deflate-raw": Inflate },
    };
  }
  return tables;
}

function engineFor(which: "compress" | "decompress", format: unknown, who: string): EngineCtor {
  const f = String(format);
  if (f !== "gzip" && f !== "deflate" && f !== "deflate-raw") {
    throw new TypeError(`${who}: unsupported format ${JSON.stringify(f)} (expected "gzip", "deflate" or "deflate-raw")`);
  }
  const table = loadTables()[which];
  const ctor = table[f];
  if (ctor === undefined) throw new TypeError(`${who}: unsupported format ${JSON.stringify(f)} (expected "gzip", "deflate" or "deflate-raw")`);
  return ctor;
}

function transformer(Ctor: EngineCtor, who: string, decompress: boolean) {
  const out: Uint8Array[] = [];
  const engine = new Ctor((data) => {
    if (data.length > 0) out.push(data);
  });
  const drain = (c: TransformStreamDefaultController<Uint8Array>) => {
    for (const chunk of out.splice(0)) c.enqueue(chunk);
  };
  const push = (bytes: Uint8Array, final: boolean) => {
    try {
      engine.push(bytes, final);
    } catch (e) {
      // fflate throws plain Errors ("invalid block type", "unexpected EOF"): the spec wants TypeError.
      throw decompress ? new TypeError(`${who}: ${(e as Error).message}`) : e;
    }
  };
  return {
    transform(chunk: unknown, c: TransformStreamDefaultController<Uint8Array>) {
      if (!isBufferSource(chunk)) throw new TypeError(`${who}: chunks must be an ArrayBuffer or an ArrayBufferView`);
      // fflate may keep the chunk: give it a copy the caller cannot change.
      push(copyOf(chunk), false);
      drain(c);
    },
    flush(c: TransformStreamDefaultController<Uint8Array>) {
      push(new Uint8Array(0), true);
      drain(c);
    },
  };
}

export class CompressionStream extends TransformStream<ArrayBuffer | ArrayBufferView, Uint8Array> {
  constructor(format: CompressionFormat) {
    super(transformer(engineFor("compress", format, "CompressionStream"), "CompressionStream", false));
  }
}
tag(CompressionStream, "CompressionStream");

export class DecompressionStream extends TransformStream<ArrayBuffer | ArrayBufferView, Uint8Array> {
  constructor(format: CompressionFormat) {
    super(transformer(engineFor("decompress", format, "DecompressionStream"), "DecompressionStream", true));
  }
}
tag(DecompressionStream, "DecompressionStream");
