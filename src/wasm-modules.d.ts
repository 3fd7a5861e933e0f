// wrangler (and the Vitest plugin) import a `.wasm` file as a compiled WebAssembly.Module: Workers
// refuse to compile WebAssembly from bytes at run time.
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
