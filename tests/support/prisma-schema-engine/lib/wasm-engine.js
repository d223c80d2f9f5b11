// Loads the wasm build of Prisma's schema engine.
//
// The package's own entry point imports the .wasm file as an ES module, which
// Node 20 only allows behind --experimental-wasm-modules, so the module is
// compiled and wired to its JS glue here instead.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const GLUE_SPECIFIER = '@prisma/schema-engine-wasm/schema_engine_bg';

class PanicRegistry {
  message = '';

  set_message(message) {
    this.message = message;
  }
}

let loading;

async function instantiate() {
  const glueUrl = import.meta.resolve(GLUE_SPECIFIER);
  const glue = await import(glueUrl);
  const wasmPath = fileURLToPath(new URL('schema_engine_bg.wasm', glueUrl));
  const module = await WebAssembly.compile(await readFile(wasmPath));
  const instance = await WebAssembly.instantiate(module, { './schema_engine_bg.js': glue });
  // The glue reports Rust panic messages through this global before trapping.
  const panics = new PanicRegistry();
  globalThis.PRISMA_WASM_PANIC_REGISTRY = panics;
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return {
    SchemaEngine: glue.SchemaEngine,
    gitHash: glue.version(),
    takePanicMessage() {
      const { message } = panics;
      panics.message = '';
      return message;
    },
  };
}

export function loadWasmSchemaEngine() {
  loading ??= instantiate();
  return loading;
}
