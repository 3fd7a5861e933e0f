// Keeps package-lock.json installable with `npm ci` everywhere: the registry these machines use
// does not serve workerd's macOS/Windows builds of the pinned versions, so `npm install` here
// leaves them out of the lock file, and `npm ci` then refuses the lock ("Missing: … from lock
// file"). This adds the missing optional platform entries (version, os, cpu — npm skips them on
// other platforms and fetches them where they apply). Run after `npm install`: node scripts/lock-platform-packages.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const platforms = { 'darwin-64': ['darwin', 'x64'], 'darwin-arm64': ['darwin', 'arm64'], 'linux-64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'windows-64': ['win32', 'x64'] }
let added = 0
for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = name.match(/^@cloudflare\/workerd-(.+)$/)
    if (!match || !platforms[match[1]]) continue
    // npm looks for the dependency next to its dependent first, then up the tree.
    const nested = `${location}/node_modules/${name}`
    const top = `node_modules/${name}`
    const present = [nested, top].some((p) => lock.packages[p]?.version === version)
    if (present) continue
    const target = lock.packages[top] ? nested : top
    const [os, cpu] = platforms[match[1]]
    lock.packages[target] = { version, license: 'Apache-2.0', optional: true, os: [os], cpu: [cpu], bin: { workerd: 'bin/workerd' }, engines: { node: '>=16' } }
    added++
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`lock-platform-packages: added ${added} entr${added === 1 ? 'y' : 'ies'}`)
