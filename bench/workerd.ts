import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('../', import.meta.url))
const wranglerBin = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))
/** The workerd binary `wrangler dev` runs (wrangler's own dependency), so both runs use the same runtime. */
const workerdPath = (createRequire(fileURLToPath(new URL('../node_modules/wrangler/package.json', import.meta.url)))('workerd') as { default: string }).default

export interface Bundle {
  dir: string
  /** Module file names in the order workerd needs them: the entry first. */
  modules: { name: string; kind: 'esModule' | 'wasm' }[]
}

/**
 * The Worker exactly as `wrangler deploy` would upload it: `wrangler deploy --dry-run --outdir`
 * (wrangler.toml's compatibility date and flags; `entry` replaces its `main`). The `.wasm` files the
 * code imports come out as separate WebAssembly modules beside the script, as Workers require.
 */
export async function bundleWorker(outdir: string, entry?: string): Promise<Bundle> {
  await promisify(execFile)(process.execPath, [wranglerBin, 'deploy', '--dry-run', '--outdir', outdir, ...(entry ? [entry, '--name', 'atrium-bench-extra'] : [])], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  })
  const files = readdirSync(outdir)
  const main = files.find((f) => f === 'index.js') ?? files.find((f) => f.endsWith('.js'))
  if (!main) throw new Error(`wrangler deploy --dry-run wrote no script to ${outdir}`)
  const wasm = files.filter((f) => f.endsWith('.wasm'))
  return { dir: outdir, modules: [{ name: main, kind: 'esModule' }, ...wasm.map((name) => ({ name, kind: 'wasm' as const }))] }
}

export interface DirectWorker {
  name: string
  bundle: Bundle
  port: number
  /** Text bindings (vars and secrets alike). */
  bindings: Record<string, string>
}

const capnpString = (text: string) => JSON.stringify(text)

/**
 * workerd serving the bundled Workers directly on their own sockets: no wrangler, no dev proxy in
 * front, so a request costs what the Worker costs. Outbound fetches may reach loopback (the local
 * endpoints). Returns the process (its own process group) and its config path.
 */
export function startWorkerd(workers: DirectWorker[], configPath: string, compatibilityDate: string, compatibilityFlags: string[], inspectorPort?: number): ChildProcess {
  const services = workers.map((w, i) => `(name = ${capnpString(w.name)}, worker = .worker${i})`)
  const sockets = workers.map((w) => `(name = ${capnpString(`${w.name}-http`)}, address = "127.0.0.1:${w.port}", http = (), service = ${capnpString(w.name)})`)
  const definitions = workers.map((w, i) => {
    // capnp resolves `embed` paths relative to the config file's directory.
    const modules = w.bundle.modules.map((m) => `(name = ${capnpString(m.name)}, ${m.kind} = embed ${capnpString(relative(dirname(configPath), join(w.bundle.dir, m.name)))})`)
    const bindings = Object.entries(w.bindings).map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`)
    return `const worker${i} :Workerd.Worker = (
  modules = [${modules.join(', ')}],
  bindings = [${bindings.join(', ')}],
  compatibilityDate = ${capnpString(compatibilityDate)},
  compatibilityFlags = [${compatibilityFlags.map(capnpString).join(', ')}],
  globalOutbound = "loopback",
);`
  })
  writeFileSync(
    configPath,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [${[...services, '(name = "loopback", network = (allow = ["public", "private", "local"]))'].join(', ')}],
  sockets = [${sockets.join(', ')}],
);
${definitions.join('\n')}
`,
    { mode: 0o600 },
  )
  const inspect = inspectorPort === undefined ? [] : [`--inspector-addr=127.0.0.1:${inspectorPort}`]
  return spawn(workerdPath, ['serve', configPath, '--experimental', ...inspect], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], detached: true })
}
