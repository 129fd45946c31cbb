/**
 * `verge up` (what `npm start` runs): a local demo with a demo origin and demo
 * functions, each served through the runtime with production limits.
 * The full fleet (registry + edge nodes) replaces this with the edge node issue.
 */
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundle } from "../../build/bundle.ts";
import { Verge, type VergeOptions } from "../../harness/index.ts";
import { serve, type ServeHandle } from "../serve.ts";

export const help = `verge up [--port <first port>]

Starts a demo origin and the demo functions (a Workers module, a service
worker, a Lambda@Edge viewer-request function in front of the origin), and
prints their URLs. Ctrl-C stops everything.
`;

const demo = (name: string) => fileURLToPath(new URL(`../demo/${name}`, import.meta.url));

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: "string", default: "8787" } } });
  let port = Number(values.port);
  const origin = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" });
    res.end(JSON.stringify({ origin: "demo", path: req.url, headers: req.headers }, null, 2));
  });
  await new Promise<void>((r) => origin.listen(port === 0 ? 0 : port + 10, "127.0.0.1", () => r()));
  const originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;

  const functions: Array<{ name: string; entry: string; options: Partial<VergeOptions> }> = [
    { name: "hello (Workers module)", entry: demo("hello.js"), options: { bindings: { GREETING: "Hello from verge" } } },
    { name: "api (service worker)", entry: demo("api.js"), options: {} },
    { name: "headers (Lambda@Edge viewer-request in front of the demo origin)", entry: demo("headers.js"), options: { upstream: originUrl } },
  ];
  const running: Array<{ verge: Verge; server: ServeHandle }> = [];
  process.stdout.write(`verge up: demo origin on ${originUrl}/\n`);
  for (const f of functions) {
    const built = await bundle(f.entry);
    const verge = new Verge({ modules: true, script: built.code, sourceMap: built.sourceMap, name: f.name.split(" ")[0], ...f.options });
    verge.onLog((e) => process.stdout.write(`[${f.name.split(" ")[0]}] ${e.level}: ${e.message}\n`));
    await verge.ready;
    const server = await serve(verge, port === 0 ? 0 : port++, (line) => process.stdout.write(`[${f.name.split(" ")[0]}] ${line}\n`));
    running.push({ verge, server });
    process.stdout.write(`  ${f.name}: ${server.url}\n`);
  }
  process.stdout.write("Ctrl-C to stop.\n");
  const stop = async () => {
    for (const r of running) {
      await r.server.close();
      await r.verge.dispose();
    }
    origin.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
