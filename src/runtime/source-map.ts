/**
 * A guest stack as the function's author reads it: `file:line:col` positions
 * rewritten through the bundle's source map, and only the function's frames
 * (isolated-vm appends the host's after its boundary marker; the prelude's
 * frames are verge's own, as a Workers stack does not show the runtime's).
 */
import { SourceMapConsumer, type RawSourceMap } from "source-map-js";

export interface StackMapper {
  map(stack: string): string;
}

/** `stack` without the host's frames and the prelude's. */
export function userFrames(stack: string): string {
  const lines = stack.split("\n");
  const boundary = lines.findIndex((l) => l.includes("<isolated-vm boundary>"));
  return (boundary < 0 ? lines : lines.slice(0, boundary)).filter((l) => !l.includes("verge:prelude:")).join("\n");
}

export function createStackMapper(filename: string, sourceMap: string | undefined): StackMapper {
  const mapped = positions(filename, sourceMap);
  return { map: (stack) => mapped(userFrames(stack)) };
}

function positions(filename: string, sourceMap: string | undefined): (stack: string) => string {
  if (sourceMap === undefined) return (s) => s;
  let consumer: SourceMapConsumer | undefined;
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const position = new RegExp(`${escaped}:(\\d+):(\\d+)`, "g");
  return (stack) => {
    try {
      consumer ??= new SourceMapConsumer(JSON.parse(sourceMap) as RawSourceMap);
    } catch {
      return stack;
    }
    const c = consumer;
    return stack.replace(position, (whole, line: string, column: string) => {
      const pos = c.originalPositionFor({ line: Number(line), column: Number(column) - 1 });
      if (pos.source === null || pos.line === null) return whole;
      return `${pos.source}:${pos.line}:${(pos.column ?? 0) + 1}`;
    });
  };
}
