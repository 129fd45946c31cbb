/** `verge publish <entry> --name <function>`: build, sign (optionally), upload, print the version. */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { bundle } from "../../build/bundle.ts";
import type { VersionInfo } from "../../shared/protocol.ts";
import { createStatement, digestOf, keyIdOf, publicKeyOf, signStatement } from "../../shared/signing.ts";
import { NAME_PATTERN } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge publish <entry> --name <function> [--key <private key.pem>] [--outdir <dir>]

Bundles <entry> with esbuild (the source map is kept beside the bundle in
--outdir, default dist/), signs it when given an Ed25519 private key, and
uploads it. Prints the version (the bundle's sha256). Publishing the same
bundle again returns the same version.
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CONNECTION_OPTIONS, name: { type: "string" }, key: { type: "string" }, outdir: { type: "string" } } });
  const entry = positionals[0];
  if (entry === undefined) throw new UsageError("verge publish: missing <entry>");
  if (values.name === undefined || !NAME_PATTERN.test(values.name)) throw new UsageError("verge publish: --name <function> is required: lowercase letters, digits, - or _ (at most 63)");
  const client = connect(values);
  const built = await bundle(entry);
  const outdir = values.outdir ?? "dist";
  mkdirSync(outdir, { recursive: true });
  writeFileSync(`${outdir}/${built.filename}`, built.code);
  writeFileSync(`${outdir}/${built.filename}.map`, built.sourceMap);
  const bytes = new TextEncoder().encode(built.code);
  const digest = digestOf(bytes);
  const tenant = await client.tenant();
  const headers: Record<string, string> = { "content-type": "text/javascript", "x-verge-digest": digest };
  if (values.key !== undefined) {
    const pem = readFileSync(values.key, "utf8");
    const signed = signStatement(createStatement({ tenant, function: values.name, digest, keyId: keyIdOf(publicKeyOf(pem)) }), pem);
    headers["x-verge-signature"] = Buffer.from(JSON.stringify(signed)).toString("base64url");
  }
  const { status, body } = await client.call<VersionInfo>("POST", `/v1/tenants/${tenant}/functions/${values.name}/versions`, bytes, headers);
  const note = status === 201 ? "published" : "already published";
  const flag = body.flagged ? ` (flagged: ${body.signatureStatus} under the tenant's warn policy)` : "";
  print(values.json, body, `${note} ${tenant}/${values.name} version ${body.digest} (${body.size} bytes, ${body.dialect}, ${body.signatureStatus})${flag}`);
}
