/**
 * Secrets at rest: AES-256-GCM under a key from the server's config
 * (`VERGE_SECRET_KEY`), with the secret's tenant/function/name as associated
 * data so a stored ciphertext cannot be moved to another secret. Values never
 * leave the registry in plain text through the API.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export interface SealedSecret {
  v: 1;
  iv: string;
  tag: string;
  data: string;
  /** First 8 hex chars of sha256(key): tells which key sealed it after a rotation. */
  keyHint: string;
}

export interface SecretBox {
  seal(context: string, plaintext: string): SealedSecret;
  open(context: string, sealed: SealedSecret): string;
}

/**
 * @param key 32 raw bytes, or any passphrase (hashed to 32 bytes with sha256).
 * @example
 * const box = createSecretBox(process.env.VERGE_SECRET_KEY!);
 * box.open("acme/auth/API_KEY", box.seal("acme/auth/API_KEY", "s3cret"));
 */
export function createSecretBox(key: string | Uint8Array): SecretBox {
  const k = typeof key === "string" || key.length !== 32 ? createHash("sha256").update(key).digest() : Buffer.from(key);
  const keyHint = createHash("sha256").update(k).digest("hex").slice(0, 8);
  return {
    seal(context, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", k, iv);
      cipher.setAAD(Buffer.from(context));
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return { v: 1, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), data: data.toString("base64"), keyHint };
    },
    open(context, sealed) {
      const decipher = createDecipheriv("aes-256-gcm", k, Buffer.from(sealed.iv, "base64"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(sealed.tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, "base64")), decipher.final()]).toString("utf8");
    },
  };
}
