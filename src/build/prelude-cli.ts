/** `npm run build:prelude`: writes src/runtime/guest/prelude.generated.js. */
import { buildPrelude } from "./prelude.ts";

try {
  const { path, bytes } = await buildPrelude();
  if (process.env.VERGE_QUIET !== "1") console.error(`prelude: ${path} (${(bytes / 1024).toFixed(1)} KiB)`);
} catch (err) {
  console.error("prelude build failed:", err instanceof Error ? err.message : err);
  process.exit(1);
}
