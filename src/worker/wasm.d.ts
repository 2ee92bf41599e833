/** Wasm imports, as Workers (wrangler, workerd) give them: a module compiled at upload time. */
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
