/**
 * First start (issue 3): create the operator admin token, either the one the
 * operator chose (`VERGE_ADMIN_TOKEN`) or a random one returned once to be
 * printed. Later starts create nothing unless a new chosen token is given.
 */
import { createToken, hashToken } from "./auth.ts";
import type { Store } from "./store/store.ts";

export interface BootstrapResult {
  /** The new token's secret when one was generated now; print it once. */
  generatedToken: string | null;
}

export async function bootstrap(store: Store, options: { adminToken?: string; now?: () => number } = {}): Promise<BootstrapResult> {
  const at = new Date((options.now ?? Date.now)()).toISOString();
  return store.write((tx) => {
    if (options.adminToken !== undefined) {
      if (tx.get("tokens", `hash/${hashToken(options.adminToken)}`) === undefined) {
        createToken(tx, { tenant: null, scopes: ["admin"], name: "bootstrap (VERGE_ADMIN_TOKEN)", token: options.adminToken }, at);
      }
      tx.put("meta", "bootstrapped", at);
      return { generatedToken: null };
    }
    if (tx.get("meta", "bootstrapped") !== undefined) return { generatedToken: null };
    tx.put("meta", "bootstrapped", at);
    return { generatedToken: createToken(tx, { tenant: null, scopes: ["admin"], name: "bootstrap" }, at).token };
  });
}
