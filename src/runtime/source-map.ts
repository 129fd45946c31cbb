/** Rewrites `file:line:col` positions of a guest stack through the bundle's source map. */
import { SourceMapConsumer, type RawSourceMap } from "source-map-js";

export interface StackMapper {
  map(stack: string): string;
}

export function createStackMapper(filename: string, sourceMap: string | undefined): StackMapper {
  if (sourceMap === undefined) return { map: (s) => s };
  let consumer: SourceMapConsumer | undefined;
  const escaped = filename.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const position = new RegExp(`${escaped}:(\\d+):(\\d+)`, "g");
  return {
    map(stack) {
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
    },
  };
}
