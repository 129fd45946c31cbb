/**
 * API tokens (issue 3): random bearer secrets stored only as their sha256,
 * scoped, revocable, bound to one tenant or (operator tokens) to none. A
 * tenant's token never sees another tenant: its names answer 404.
 */
import { createHash, randomBytes } from "node:crypto";
import type { CreatedToken, Scope, TokenInfo } from "../src/shared/protocol.ts";
import type { Principal } from "./context.ts";
import { notFound, originError } from "./errors.ts";
import type { ReadTx, WriteTx } from "./store/store.ts";
import { checkName } from "./validate/names.ts";

export interface TokenRecord extends TokenInfo {
  hash: string;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Stores a token (hash only) and returns it with its secret, shown once. */
export function createToken(tx: WriteTx, fields: { tenant: string | null; scopes: Scope[]; name: string; token?: string }, at: string): CreatedToken {
  const id = randomBytes(6).toString("hex");
  const token = fields.token ?? `vrg_${randomBytes(32).toString("base64url")}`;
  const record: TokenRecord = { id, tenant: fields.tenant, scopes: [...fields.scopes], name: fields.name, createdAt: at, revokedAt: null, hash: hashToken(token) };
  tx.put("tokens", `id/${id}`, record);
  tx.put("tokens", `hash/${record.hash}`, id);
  return { ...publicToken(record), token };
}

export function publicToken(record: TokenRecord): TokenInfo {
  const { hash: _hash, ...info } = record;
  return info;
}

/** Resolves the `Authorization: Bearer` header to a principal, or throws 401. */
export function authenticate(tx: ReadTx, header: string | undefined): Principal {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (match === null) throw originError("ERR_UNAUTHORIZED", "missing bearer token: send `Authorization: Bearer <token>`");
  const id = tx.get<string>("tokens", `hash/${hashToken(match[1]!)}`);
  const record = id === undefined ? undefined : tx.get<TokenRecord>("tokens", `id/${id}`);
  if (record === undefined) throw originError("ERR_UNAUTHORIZED", "the bearer token is not valid");
  if (record.revokedAt !== null) throw originError("ERR_TOKEN_REVOKED", `token ${record.id} ("${record.name}") was revoked at ${record.revokedAt}`);
  return { tokenId: record.id, name: record.name, tenant: record.tenant, scopes: record.scopes };
}

/** `admin` implies every scope but `node`; `node` implies `read`, `kv`, `d1` and `r2` (edge nodes write KV, query D1 and use R2 for their functions). */
export function hasScope(p: Principal, scope: Scope): boolean {
  if (p.scopes.includes(scope)) return true;
  if (scope !== "node" && p.scopes.includes("admin")) return true;
  return (scope === "read" || scope === "kv" || scope === "d1" || scope === "r2") && p.scopes.includes("node");
}

export function need(p: Principal, scope: Scope): void {
  if (!hasScope(p, scope)) throw originError("ERR_MISSING_SCOPE", `token ${p.tokenId} ("${p.name}") lacks the "${scope}" scope; it has [${p.scopes.join(", ")}]`);
}

/** An operator token with the admin scope: may create tenants and act in any tenant. */
export function isOperator(p: Principal): boolean {
  return p.tenant === null && p.scopes.includes("admin");
}

/**
 * The tenant a request names, if the principal may see it: another tenant's
 * name and a missing tenant look alike (404), so names do not leak.
 */
export function visibleTenant(tx: ReadTx, p: Principal, name: string): string {
  checkName("tenant", name);
  const mayAct = p.tenant === null ? p.scopes.includes("admin") || p.scopes.includes("node") : p.tenant === name;
  if (!mayAct || tx.get("tenants", name) === undefined) throw notFound(`tenant "${name}"`);
  return name;
}
