/** What the Lambda@Edge corpus tests share: a harness per test, and the edge's reason for an error answer. */
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { Verge, type VergeOptions } from "../../src/index.ts";

/** The path of a fixture in test/fixtures/lambda-edge/. */
export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/lambda-edge/${name}`, import.meta.url));

/** A Verge disposed after the test, with room in the CPU budget for a loaded machine. */
export function verge(t: TestContext, options: VergeOptions): Verge {
  const v = new Verge({ limits: { cpuMs: 2_000 }, ...options });
  t.after(() => v.dispose());
  return v;
}

/** The edge's reason when a response is an error, for assertion messages. */
export async function why(v: Verge, res: Response): Promise<string> {
  return `${res.status} ${res.headers.get("x-verge-error") ?? ""} ${JSON.stringify((await v.reportOf(res))?.error ?? null)}`;
}
