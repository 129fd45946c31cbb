/**
 * Publish-time checks of a bundle (issue 3): it is UTF-8, parses as an ES module
 * (acorn; nothing is executed, the registry never runs user code), and exports a
 * handler in one of the three dialects of DESIGN.md §3. The runtime decides the
 * dialect again when it loads the bundle; this check refuses what can never run.
 */
import { parse } from "acorn";
import type { Dialect } from "../../src/shared/protocol.ts";
import { originError } from "../errors.ts";

export interface BundleCheck {
  dialect: Dialect;
  /** Names the module exports, sorted. */
  exports: string[];
}

type AstNode = { type: string; [field: string]: unknown };

const isNode = (v: unknown): v is AstNode => typeof v === "object" && v !== null && typeof (v as AstNode).type === "string";

/** Name of an Identifier, a string Literal, or a non-computed key. */
function nameOf(node: unknown): string | undefined {
  if (!isNode(node)) return undefined;
  if (node.type === "Identifier") return node.name as string;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  return undefined;
}

function hasFetchMember(node: AstNode): boolean | undefined {
  if (node.type === "ObjectExpression") {
    return (node.properties as AstNode[]).some((p) => p.type === "SpreadElement" || (p.type === "Property" && !p.computed && nameOf(p.key) === "fetch"));
  }
  if (node.type === "ClassDeclaration" || node.type === "ClassExpression") {
    const members = ((node.body as AstNode).body as AstNode[]).filter((m) => m.type === "MethodDefinition" || m.type === "PropertyDefinition");
    if (node.superClass) return true; // may inherit fetch (e.g. WorkerEntrypoint)
    return members.some((m) => !m.static && !m.computed && nameOf(m.key) === "fetch");
  }
  return undefined; // opaque (a call, `new App()`, ...): only running it could tell
}

function* walk(node: unknown): Generator<AstNode> {
  if (Array.isArray(node)) {
    for (const n of node) yield* walk(n);
    return;
  }
  if (!isNode(node)) return;
  yield node;
  for (const key in node) {
    if (key === "type" || key === "loc") continue;
    const child = node[key];
    if (typeof child === "object" && child !== null) yield* walk(child);
  }
}

function isFetchListener(node: AstNode): boolean {
  if (node.type !== "CallExpression") return false;
  const callee = node.callee as AstNode;
  const direct = callee.type === "Identifier" && callee.name === "addEventListener";
  const member = callee.type === "MemberExpression" && !callee.computed && nameOf(callee.property) === "addEventListener" && ["self", "globalThis"].includes(nameOf(callee.object) ?? "");
  const first = (node.arguments as AstNode[])[0];
  return (direct || member) && first !== undefined && first.type === "Literal" && first.value === "fetch";
}

/** `exports.handler = ...`, `module.exports.handler = ...`, `module.exports = { handler }`. */
function isCommonJsHandler(node: AstNode): boolean {
  if (node.type !== "AssignmentExpression") return false;
  const left = node.left as AstNode;
  if (left.type !== "MemberExpression" || left.computed) return false;
  const obj = left.object as AstNode;
  const isExports = nameOf(obj) === "exports" || (obj.type === "MemberExpression" && nameOf(obj.object) === "module" && nameOf(obj.property) === "exports");
  if (isExports && nameOf(left.property) === "handler") return true;
  if (nameOf(left.object) === "module" && nameOf(left.property) === "exports" && (node.right as AstNode).type === "ObjectExpression") {
    return ((node.right as AstNode).properties as AstNode[]).some((p) => p.type === "Property" && nameOf(p.key) === "handler");
  }
  return false;
}

/**
 * @example
 * checkBundle(new TextEncoder().encode("export default { fetch: () => new Response('ok') }"));
 * // { dialect: "workers-module", exports: ["default"] }
 */
export function checkBundle(bytes: Uint8Array): BundleCheck {
  let code: string;
  try {
    code = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw originError("ERR_BUNDLE_SYNTAX", "bundle is not UTF-8 text: expected one ES module as produced by `verge build`");
  }
  let program: AstNode;
  try {
    program = parse(code, { ecmaVersion: "latest", sourceType: "module", allowHashBang: true }) as unknown as AstNode;
  } catch (err) {
    throw originError("ERR_BUNDLE_SYNTAX", `bundle does not parse as an ES module: ${(err as Error).message} (line:column)`);
  }

  const bindings = new Map<string, AstNode>();
  const exported = new Map<string, AstNode | undefined>();
  for (const stmt of program.body as AstNode[]) {
    const decl = (stmt.type === "ExportNamedDeclaration" ? stmt.declaration : stmt) as AstNode | null;
    if (decl?.type === "VariableDeclaration") {
      for (const d of decl.declarations as AstNode[]) {
        const name = nameOf(d.id);
        if (name !== undefined && isNode(d.init)) bindings.set(name, d.init);
        if (name !== undefined && stmt.type === "ExportNamedDeclaration") exported.set(name, isNode(d.init) ? d.init : undefined);
      }
    } else if (decl?.type === "FunctionDeclaration" || decl?.type === "ClassDeclaration") {
      const name = nameOf(decl.id);
      if (name !== undefined) bindings.set(name, decl);
      if (name !== undefined && stmt.type === "ExportNamedDeclaration") exported.set(name, decl);
    }
    if (stmt.type === "ExportNamedDeclaration") {
      for (const s of stmt.specifiers as AstNode[]) {
        const as = nameOf(s.exported);
        if (as !== undefined) exported.set(as, stmt.source ? undefined : bindings.get(nameOf(s.local) ?? "") ?? { type: "Local", name: nameOf(s.local) });
      }
    } else if (stmt.type === "ExportDefaultDeclaration") {
      exported.set("default", stmt.declaration as AstNode);
    } else if (stmt.type === "ExportAllDeclaration" && stmt.exported) {
      exported.set(nameOf(stmt.exported) ?? "*", undefined);
    }
  }
  // `export { x as default }` may come before `var x = ...`: resolve late.
  for (const [name, node] of exported) if (node?.type === "Local") exported.set(name, bindings.get(node.name as string));
  const exports = [...exported.keys()].sort();

  if (exported.has("handler")) return { dialect: "lambda-edge", exports };
  let serviceWorker = false;
  let commonJs = false;
  for (const node of walk(program.body)) {
    if (isFetchListener(node)) serviceWorker = true;
    else if (isCommonJsHandler(node)) commonJs = true;
  }
  if (commonJs) return { dialect: "lambda-edge", exports };
  let defaultProblem = "";
  if (exported.has("default")) {
    let def = exported.get("default");
    if (def?.type === "Identifier") def = bindings.get(def.name as string);
    const fetch = def === undefined ? undefined : hasFetchMember(def);
    if (fetch !== false) return { dialect: "workers-module", exports };
    defaultProblem = "; the default export has no fetch method";
  }
  if (serviceWorker) return { dialect: "service-worker", exports };
  throw originError(
    "ERR_NO_HANDLER",
    `bundle exports no handler${defaultProblem}: expected \`export default { fetch(request, env, ctx) }\`, \`addEventListener("fetch", ...)\` or \`export const handler\` / \`exports.handler\`; found exports [${exports.join(", ") || "none"}]`,
  );
}
