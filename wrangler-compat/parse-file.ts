/**
 * Reads the text of a wrangler config into plain data: `wrangler.toml` with
 * smol-toml (TOML 1.1), `wrangler.json` / `wrangler.jsonc` with Microsoft's
 * jsonc-parser (comments and trailing commas, as Wrangler accepts them).
 * Syntax errors become diagnostics with a line and column; all are reported.
 */
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { parse as parseToml, TomlError } from "smol-toml";
import { Diagnostics, describe, isTable } from "./diagnostics.ts";

export type ConfigFormat = "toml" | "jsonc";

/** The format a file name implies: `.toml`, or `.json` / `.jsonc`; null for anything else. */
export function formatOf(file: string): ConfigFormat | null {
  if (/\.toml$/i.test(file)) return "toml";
  if (/\.jsonc?$/i.test(file)) return "jsonc";
  return null;
}

/** 1-based line and column of a character offset, or the end of the file. */
function position(text: string, offset: number): string {
  if (offset >= text.length) return "the end of the file";
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** jsonc-parser's error codes (`printParseErrorCode`) in words. */
const JSON_PROBLEMS: Record<string, string> = {
  InvalidSymbol: "an invalid symbol",
  InvalidNumberFormat: "an invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: 'expected ":"',
  CommaExpected: 'expected ","',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: "expected the end of the file",
  InvalidCommentToken: "an invalid comment",
  UnexpectedEndOfComment: "a comment that is not closed",
  UnexpectedEndOfString: "a string that is not closed",
  UnexpectedEndOfNumber: "a number that is cut short",
  InvalidUnicode: "an invalid \\u escape",
  InvalidEscapeCharacter: "an invalid escape character",
  InvalidCharacter: "an invalid character",
};

/**
 * Parses `text`; returns the top-level table, or undefined with errors in `d`.
 *
 * @example
 * const d = new Diagnostics();
 * const raw = parseConfigText('name = "api"', "toml", d); // { name: "api" }
 */
export function parseConfigText(text: string, format: ConfigFormat, d: Diagnostics): Record<string, unknown> | undefined {
  let value: unknown;
  if (format === "toml") {
    try {
      value = parseToml(text);
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      // smol-toml stops at the first syntax error: TOML has no recovery.
      const message = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      d.error("", `invalid TOML at line ${err.line}, column ${err.column}: ${message}`);
      return undefined;
    }
  } else {
    const errors: ParseError[] = [];
    value = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: false });
    for (const e of errors) {
      const code = printParseErrorCode(e.error);
      d.error("", `invalid JSON at ${position(text, e.offset)}: ${JSON_PROBLEMS[code] ?? code}`);
    }
    if (errors.length > 0) return undefined;
  }
  if (!isTable(value)) {
    d.error("", `expected a table (an object) at the top of the file, found ${describe(value)}`);
    return undefined;
  }
  return value;
}
