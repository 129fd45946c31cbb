/**
 * The primary's signals (issue 4): SIGTERM or SIGINT stops gracefully (workers
 * drain) and exits 0 once every worker is gone; a second signal kills the
 * workers at once and exits 1.
 */
export function handleStopSignals(ctx: { stop(): Promise<void>; killAll(): void; log(line: object): void }): () => void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++count > 1) {
      ctx.log({ level: "warn", event: "supervisor-forced-stop", signal });
      ctx.killAll();
      process.exit(1);
    }
    ctx.log({ level: "info", event: "supervisor-signal", signal });
    void ctx.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return () => {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  };
}
