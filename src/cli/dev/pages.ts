/**
 * What `verge dev` shows when something is wrong: build errors with a code
 * frame, and function exceptions with the source-mapped stack, as terminal
 * text and as an escaped HTML page (or JSON for clients that do not accept HTML).
 */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { BuildProblem } from "../../build/bundle.ts";

/** The lines around `line` (1-based) of `file`, with a caret under the column. */
export function codeFrame(p: BuildProblem, context = 2): string {
  if (p.file === undefined || p.line === undefined) return "";
  let lines: string[];
  try {
    lines = readFileSync(p.file, "utf8").split(/\r?\n/);
  } catch {
    lines = p.lineText === undefined ? [] : [...Array(p.line - 1).fill(""), p.lineText];
  }
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const from = Math.max(1, p.line - context);
  const to = Math.min(lines.length, p.line + context);
  const width = String(to).length;
  const out: string[] = [];
  for (let n = from; n <= to; n++) {
    const mark = n === p.line ? ">" : " ";
    out.push(`${mark} ${String(n).padStart(width)} | ${lines[n - 1] ?? ""}`);
    if (n === p.line) out.push(`  ${" ".repeat(width)} | ${" ".repeat(p.column ?? 0)}${"^".repeat(Math.max(1, p.length ?? 1))}`);
  }
  return out.join("\n");
}

export function where(p: BuildProblem, cwd = process.cwd()): string {
  if (p.file === undefined) return "";
  return `${relative(cwd, p.file) || p.file}:${p.line ?? 0}:${(p.column ?? 0) + 1}`;
}

/** Build problems as terminal text: `file:line:col: message` and a code frame each. */
export function formatProblems(problems: BuildProblem[]): string {
  return problems.map((p) => [p.file ? `${where(p)}: ${p.text}` : p.text, codeFrame(p)].filter(Boolean).join("\n")).join("\n\n");
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}h1{color:#b00020;font-size:1.3em}
pre{background:#f6f6f6;padding:1em;overflow:auto;border-left:4px solid #b00020}small{color:#666}</style></head>
<body>${body}</body></html>
`;
}

export function buildErrorPage(problems: BuildProblem[], entry: string): string {
  const items = problems
    .map((p) => `<h2>${escapeHtml(p.file ? where(p) : entry)}</h2><p>${escapeHtml(p.text)}</p>${p.file ? `<pre>${escapeHtml(codeFrame(p))}</pre>` : ""}`)
    .join("\n");
  return page("Build failed", `<h1>Build failed: ${escapeHtml(entry)}</h1>\n${items}\n<p><small>Fix the error and save: verge dev rebuilds and this page goes away.</small></p>`);
}

export interface ExceptionInfo {
  status: number;
  code: string;
  message: string;
  /** The user's stack, positions mapped to the original sources. */
  stack?: string | undefined;
  requestId: string;
}

export function exceptionPage(e: ExceptionInfo): string {
  const stack = e.stack ? `<pre>${escapeHtml(e.stack)}</pre>` : "";
  return page(`${e.status} ${e.code}`, `<h1>${e.status} ${escapeHtml(e.code)}</h1>\n<p>${escapeHtml(e.message)}</p>\n${stack}\n<p><small>request id: ${escapeHtml(e.requestId)}</small></p>`);
}

/** True when the client prefers an HTML page (a browser). */
export function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /\btext\/html\b/.test(accept);
}
