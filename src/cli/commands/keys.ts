/** `verge keys generate` / `verge keys trust`: Ed25519 publisher keys. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateSigningKeyPair } from "../../shared/signing.ts";
import type { TrustedKey } from "../../shared/protocol.ts";
import { UsageError } from "../output.ts";
import { apiPath, CONNECTION_HELP, CONNECTION_OPTIONS, connect, print } from "./registry-client.ts";

export const help = `verge keys generate --out <file.pem>
verge keys trust <public key file or value> [--name <name>]

generate  writes an Ed25519 private key (PKCS#8 PEM, mode 0600) and prints the
          public key and key id to register with \`verge keys trust\`.
trust     adds a public key to the tenant's trusted publisher keys.
${CONNECTION_HELP}
`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...CONNECTION_OPTIONS, out: { type: "string" }, name: { type: "string" } } });
  const [sub, arg] = positionals;
  if (sub === "generate") {
    if (values.out === undefined) throw new UsageError("verge keys generate: --out <file.pem> is required");
    if (existsSync(values.out)) throw new UsageError(`verge keys generate: ${values.out} exists; refusing to overwrite a key`);
    const keys = generateSigningKeyPair();
    writeFileSync(values.out, keys.privateKey, { mode: 0o600 });
    print(values.json, { keyId: keys.keyId, publicKey: keys.publicKey }, `private key: ${values.out}\npublic key:  ${keys.publicKey}\nkey id:      ${keys.keyId}`);
    return;
  }
  if (sub === "trust") {
    if (arg === undefined) throw new UsageError("verge keys trust: missing <public key>");
    const publicKey = existsSync(arg) ? readFileSync(arg, "utf8") : arg;
    // A private key must never leave this machine, not even to a registry that would only derive its public half.
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(publicKey)) {
      throw new UsageError(`verge keys trust: ${existsSync(arg) ? arg : "the argument"} is a private key; pass the public key \`verge keys generate\` printed (raw base64url or SPKI PEM), and keep the private key with the publisher`);
    }
    const client = connect(values);
    const tenant = await client.tenant();
    const { body } = await client.call<TrustedKey>("POST", apiPath`/v1/tenants/${tenant}/signing/keys`, { publicKey, ...(values.name === undefined ? {} : { name: values.name }) });
    print(values.json, body, `trusted key ${body.keyId} for tenant ${tenant}`);
    return;
  }
  throw new UsageError(`verge keys: expected "generate" or "trust", found ${sub === undefined ? "nothing" : `"${sub}"`}`);
}
