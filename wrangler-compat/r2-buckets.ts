/**
 * `[[r2_buckets]]` (wrangler.toml) / `r2_buckets: [...]` (wrangler.jsonc): R2
 * bucket bindings, `{ binding, bucket_name, preview_bucket_name? }`. `verge dev`
 * binds `bucket_name` in a local store; `verge publish` maps each to the
 * version's `config.r2Buckets`. `jurisdiction` is warned and ignored: a verge
 * bucket lives where its registry runs.
 */
import { R2_BUCKET_NAME } from "../src/shared/r2-rules.ts";
import { describe, isTable, join, type Diagnostics } from "./diagnostics.ts";

export interface WranglerR2Bucket {
  binding: string;
  bucketName: string;
  previewBucketName?: string;
}

const BINDING = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const BUCKET_EXPECTED = "3 to 63 lowercase letters, digits or -, starting and ending with a letter or digit";

/** `taken`: names already bound (vars, KV, services) in the same table. */
export function r2Buckets(d: Diagnostics, path: string, value: unknown, taken: readonly string[]): WranglerR2Bucket[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    d.error(path, `expected an array of { binding, bucket_name } tables, found ${describe(value)}`);
    return [];
  }
  const out: WranglerR2Bucket[] = [];
  value.forEach((raw, i) => {
    const p = join(path, i);
    if (!isTable(raw)) return d.error(p, `expected a table { binding, bucket_name, preview_bucket_name }, found ${describe(raw)}`);
    for (const key of Object.keys(raw)) {
      if (key === "jurisdiction") d.warn(join(p, key), "not supported by verge: a bucket lives where the registry runs; ignored");
      else if (!["binding", "bucket_name", "preview_bucket_name", "remote"].includes(key)) d.warn(join(p, key), "unknown R2 bucket key; ignored (expected binding, bucket_name, preview_bucket_name)");
    }
    const binding = d.string(join(p, "binding"), raw.binding, "a binding name (a JavaScript identifier)");
    const bucketName = d.string(join(p, "bucket_name"), raw.bucket_name, "an R2 bucket name");
    const preview = d.string(join(p, "preview_bucket_name"), raw.preview_bucket_name, "an R2 bucket name");
    if (raw.binding === undefined) d.error(join(p, "binding"), 'missing: expected the name the Worker reads it by, such as "ASSETS"');
    else if (binding !== undefined && !BINDING.test(binding)) d.error(join(p, "binding"), `expected a JavaScript identifier, found ${describe(binding)}`);
    else if (binding !== undefined && out.some((b) => b.binding === binding)) d.error(join(p, "binding"), `"${binding}" is bound twice`);
    else if (binding !== undefined && taken.includes(binding)) d.error(join(p, "binding"), `"${binding}" is also bound in vars, kv_namespaces or services; a name is bound once`);
    if (raw.bucket_name === undefined) d.error(join(p, "bucket_name"), 'missing: expected the bucket\'s name, such as "my-assets"');
    for (const [key, name] of [["bucket_name", bucketName], ["preview_bucket_name", preview]] as const) {
      if (name !== undefined && !R2_BUCKET_NAME.test(name)) d.error(join(p, key), `expected ${BUCKET_EXPECTED}, found ${describe(name)}`);
    }
    if (binding === undefined || bucketName === undefined || !BINDING.test(binding) || !R2_BUCKET_NAME.test(bucketName)) return;
    out.push({ binding, bucketName, ...(preview !== undefined && R2_BUCKET_NAME.test(preview) ? { previewBucketName: preview } : {}) });
  });
  return out;
}
