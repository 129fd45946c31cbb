/** `verge build <entry>`: bundle a function into one ES module and its source map. */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { bundle } from "../../build/bundle.ts";
import { UsageError } from "../output.ts";

export const help = `verge build <entry> [--outfile <path>] [--node-compat]

Bundles <entry> and its imports into one ES module (the unit verge runs and
publishes), with a source map beside it.
  --node-compat   bundle Node built-ins (node:buffer, node:crypto, querystring, ...) as
                  Workers' nodejs_compat does: what a Lambda@Edge handler written for
                  Node needs (a wrangler config turns it on with compatibility_flags)
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { outfile: { type: "string" }, "node-compat": { type: "boolean" } } });
  const entry = positionals[0];
  if (entry === undefined) throw new UsageError("verge build: missing <entry>");
  const built = await bundle(entry, { nodeCompat: values["node-compat"] === true });
  const out = values.outfile ?? `dist/${built.filename}`;
  const { mkdirSync } = await import("node:fs");
  const { dirname } = await import("node:path");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, built.code + `\n//# sourceMappingURL=${out.split("/").pop()}.map\n`);
  writeFileSync(`${out}.map`, built.sourceMap);
  process.stdout.write(`${out} (${built.bytes} bytes)\n`);
}
