/** `npm run build:prelude`: writes src/runtime/guest/prelude*.generated.js. */
import { buildPrelude } from "./prelude.ts";

try {
  const { path, bytes, totalBytes } = await buildPrelude();
  const kib = (n: number) => (n / 1024).toFixed(1);
  if (process.env.VERGE_QUIET !== "1") console.error(`prelude: ${path} (${kib(bytes)} KiB eager, ${kib(totalBytes)} KiB with the lazy parts)`);
} catch (err) {
  console.error("prelude build failed:", err instanceof Error ? err.message : err);
  process.exit(1);
}
