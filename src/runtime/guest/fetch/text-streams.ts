/**
 * TextEncoderStream and TextDecoderStream (https://encoding.spec.whatwg.org/#interface-textencoderstream)
 * over the platform TextEncoder/TextDecoder. Both extend TransformStream, as in Workers.
 */
import { TransformStream } from "./streams.ts";
import { isBufferSource, platform, tag, utf8Encode, viewOf } from "./webidl.ts";
import type { TextDecoderLike } from "./webidl.ts";

const REPLACEMENT = new Uint8Array([0xef, 0xbf, 0xbd]);

export class TextEncoderStream extends TransformStream<string, Uint8Array> {
  constructor() {
    // A high surrogate ending one chunk may pair with a low surrogate starting the next.
    let pending = "";
    super({
      transform(chunk, c) {
        let s = pending + String(chunk);
        pending = "";
        const last = s.charCodeAt(s.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) {
          pending = s.slice(-1);
          s = s.slice(0, -1);
        }
        if (s !== "") c.enqueue(utf8Encode(s));
      },
      flush(c) {
        if (pending !== "") c.enqueue(REPLACEMENT.slice());
      },
    });
  }

  get encoding(): string {
    return "utf-8";
  }
}
tag(TextEncoderStream, "TextEncoderStream");

export class TextDecoderStream extends TransformStream<ArrayBuffer | ArrayBufferView, string> {
  #decoder: TextDecoderLike;

  constructor(label = "utf-8", options?: { fatal?: boolean; ignoreBOM?: boolean }) {
    const decoder = new (platform("TextDecoder"))(label, options);
    super({
      transform(chunk, c) {
        if (!isBufferSource(chunk)) throw new TypeError("TextDecoderStream: chunks must be an ArrayBuffer or an ArrayBufferView");
        const s = decoder.decode(viewOf(chunk), { stream: true });
        if (s !== "") c.enqueue(s);
      },
      flush(c) {
        const s = decoder.decode();
        if (s !== "") c.enqueue(s);
      },
    });
    this.#decoder = decoder;
  }

  get encoding(): string {
    return this.#decoder.encoding;
  }
  get fatal(): boolean {
    return this.#decoder.fatal;
  }
  get ignoreBOM(): boolean {
    return this.#decoder.ignoreBOM;
  }
}
tag(TextDecoderStream, "TextDecoderStream");
