/**
 * TextEncoder and TextDecoder (WHATWG Encoding §7). Supported encodings:
 * UTF-8, UTF-16LE, UTF-16BE and windows-1252 (which is what "latin1",
 * "ascii" and "iso-8859-1" mean on the Web), under every label the standard
 * lists for them. Other labels throw RangeError.
 *
 * @example
 * const d = new TextDecoder("utf-8", { fatal: true });
 * d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + d.decode(new Uint8Array([0xac])) // "€"
 */
import { createUtf16Decoder, createUtf8Decoder, createWindows1252Decoder, utf8Encode, utf8EncodeInto, type Decoder } from "./encoding-codecs.ts";
import { viewBytes } from "./buffer-source.ts";

/** Labels → encoding name (https://encoding.spec.whatwg.org/#names-and-labels), for the encodings verge decodes. */
const LABELS: Record<string, string> = {};
const addLabels = (name: string, labels: string) => {
  for (const l of labels.split(" ")) LABELS[l] = name;
};
addLabels("utf-8", "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8");
addLabels("utf-16le", "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le");
addLabels("utf-16be", "unicodefffe utf-16be");
addLabels(
  "windows-1252",
  "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
);

/** The encoding name for `label`, or undefined (Encoding §4.2 "get an encoding"). */
export function getEncoding(label: string): string | undefined {
  const key = label.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase();
  return Object.hasOwn(LABELS, key) ? LABELS[key] : undefined;
}

// Assigned by the TextDecoder static block.
let isTextDecoder: (v: unknown) => v is TextDecoder;

export class TextEncoder {
  #brand = true;

  get encoding(): string {
    if (!(#brand in this)) throw new TypeError("Illegal invocation");
    return "utf-8";
  }

  encode(input: unknown = ""): Uint8Array {
    if (!(#brand in this)) throw new TypeError("Illegal invocation");
    return utf8Encode(String(input));
  }

  encodeInto(source: unknown, destination: Uint8Array): { read: number; written: number } {
    if (!(#brand in this)) throw new TypeError("Illegal invocation");
    if (arguments.length < 2) throw new TypeError(`Failed to execute 'encodeInto' on 'TextEncoder': 2 arguments required, but only ${arguments.length} present.`);
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    return utf8EncodeInto(String(source), destination);
  }
}

export interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}

export class TextDecoder {
  #encoding: string;
  #fatal: boolean;
  #ignoreBOM: boolean;
  #decoder: Decoder;
  #bomSeen = false;
  #streaming = false;

  constructor(label: unknown = "utf-8", options: TextDecoderOptions | null | undefined = {}) {
    const name = getEncoding(String(label));
    if (name === undefined) throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${String(label)}') is invalid.`);
    if (options !== null && options !== undefined && typeof options !== "object") {
      throw new TypeError("Failed to construct 'TextDecoder': The provided value is not of type 'TextDecoderOptions'.");
    }
    this.#encoding = name;
    this.#fatal = Boolean(options?.fatal);
    this.#ignoreBOM = Boolean(options?.ignoreBOM);
    this.#decoder =
      name === "utf-8" ? createUtf8Decoder() : name === "windows-1252" ? createWindows1252Decoder() : createUtf16Decoder(name === "utf-16be");
  }

  get encoding(): string {
    return brand(this).#encoding;
  }

  get fatal(): boolean {
    return brand(this).#fatal;
  }

  get ignoreBOM(): boolean {
    return brand(this).#ignoreBOM;
  }

  decode(input?: unknown, options?: { stream?: boolean } | null): string {
    const self = brand(this);
    const bytes = input === undefined ? new Uint8Array(0) : viewBytes(input, "Failed to execute 'decode' on 'TextDecoder': parameter 1");
    if (options !== null && options !== undefined && typeof options !== "object") {
      throw new TypeError("Failed to execute 'decode' on 'TextDecoder': The provided value is not of type 'TextDecodeOptions'.");
    }
    const stream = Boolean(options?.stream);
    if (!self.#streaming) {
      self.#decoder.reset();
      self.#bomSeen = false;
    }
    self.#streaming = stream;
    let out = self.#decoder.decode(bytes, !stream, self.#fatal);
    if (out === null) {
      self.#decoder.reset();
      self.#streaming = false;
      throw new TypeError(`Failed to execute 'decode' on 'TextDecoder': The encoded data was not valid for encoding ${self.#encoding}`);
    }
    // Encoding §7.2 "serialize I/O queue": drop one leading U+FEFF of UTF-8/UTF-16 unless ignoreBOM.
    if (!self.#bomSeen && out.length > 0) {
      self.#bomSeen = true;
      if (!self.#ignoreBOM && self.#encoding !== "windows-1252" && out.charCodeAt(0) === 0xfeff) out = out.slice(1);
    }
    return out;
  }

  static {
    isTextDecoder = (v: unknown): v is TextDecoder => typeof v === "object" && v !== null && #decoder in v;
  }
}

function brand(v: TextDecoder): TextDecoder {
  if (!isTextDecoder(v)) throw new TypeError("Illegal invocation");
  return v;
}
