/**
 * The part of the WebAssembly JS API (https://webassembly.github.io/spec/js-api/) the
 * HTMLRewriter glue uses: the guest's tsconfig has no DOM library, where TypeScript keeps it.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  type ModuleImports = Record<string, Function | Memory>;
  class Instance {
    constructor(module: Module, imports: Record<string, ModuleImports>);
    readonly exports: Record<string, Function | Memory>;
  }
  class RuntimeError extends Error {}
}
