import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultLimits } from "../../shared/limits.ts";
import { buildErrorPage, codeFrame, escapeHtml } from "./pages.ts";
import { banner, createTerminal, limitsHeader } from "./terminal.ts";

const sink = (isTTY: boolean) => {
  const lines: string[] = [];
  return { lines, stream: { isTTY, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream };
};

test("colour only on a TTY, and never with NO_COLOR", () => {
  const tty = sink(true);
  createTerminal(tty.stream, {}).line(createTerminal(tty.stream, {}).paint("red", "x"));
  assert.equal(tty.lines.join(""), "\x1b[31mx\x1b[39m\n");
  assert.equal(createTerminal(sink(true).stream, { NO_COLOR: "1" }).paint("red", "x"), "x");
  assert.equal(createTerminal(sink(false).stream, {}).paint("red", "x"), "x");
});

test("limit header: used vs budget, ? where unknown", () => {
  const limits = defaultLimits();
  const report = { cpuMs: { used: 0.44, limit: 50 }, wallMs: { used: 2.04, limit: 30000 }, heapMb: { used: 3.12, limit: 128 }, subrequests: { used: 1, limit: 50 }, responseBytes: { used: 2, limit: null } };
  assert.equal(limitsHeader(report, limits), "cpu=0.4/50ms; wall=2/30000ms; heap=3.1/128MB; subrequests=1/50");
  assert.equal(limitsHeader(undefined, limits), "cpu=?/50ms; wall=?/30000ms; heap=?/128MB; subrequests=?/50");
});

test("banner names bindings and masks secrets", () => {
  const text = banner(createTerminal(sink(false).stream, {}), { url: "http://127.0.0.1:1/", entry: "a.ts", vars: ["A"], secrets: ["TOKEN"], kv: ["KV"], limits: defaultLimits() });
  assert.match(text, /bindings\s+A \(var\), TOKEN \(secret: \*\*\*\*\), KV \(KV namespace\)/);
});

test("code frame and escaped error page", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "verge-frame-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "a.ts");
  writeFileSync(file, "one\nconst a = <b>;\nthree\n");
  const p = { text: "Unexpected <", file, line: 2, column: 10, length: 1 };
  assert.equal(codeFrame(p), "  1 | one\n> 2 | const a = <b>;\n    |           ^\n  3 | three");
  const html = buildErrorPage([p], "a.ts");
  assert.ok(html.includes("const a = &lt;b&gt;;") && html.includes("Unexpected &lt;") && !html.includes("<b>"));
  assert.equal(escapeHtml(`<&"'>`), "&lt;&amp;&quot;&#39;&gt;");
});
