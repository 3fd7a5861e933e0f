import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { SERIAL_WORKER_FILES } from '../serial-files.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const SHARED_ENDPOINT_HELPERS = /\b(faults|endpointRequests|resetEndpointStats)\(/

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('test/local/') && !path.startsWith('test/browser/'))
}

describe('the serial group of worker test files', () => {
  it('holds every worker test file that injects faults into or counts requests of the shared endpoints', async () => {
    const files = [...(await testFiles('test')), ...(await testFiles('src'))]
    // Helper modules beside the tests that call those helpers count for every file importing them.
    const helpers = (await readdir(join(root, 'test'))).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts') && name !== 'support.ts' && name !== 'serial-files.ts')
    const touchingHelpers: string[] = []
    for (const helper of helpers) if (SHARED_ENDPOINT_HELPERS.test(await readFile(join(root, 'test', helper), 'utf8'))) touchingHelpers.push(helper)
    const touching: string[] = []
    for (const file of files) {
      const text = await readFile(join(root, file), 'utf8')
      if (SHARED_ENDPOINT_HELPERS.test(text) || touchingHelpers.some((helper) => text.includes(`/${helper}'`))) touching.push(file)
    }
    expect(touching.length).toBeGreaterThan(0)
    expect(touching.filter((file) => !SERIAL_WORKER_FILES.includes(file))).toEqual([])
  })

  it('lists only files that exist', async () => {
    const files = await testFiles('test')
    expect(SERIAL_WORKER_FILES.filter((file) => !files.includes(file))).toEqual([])
  })
})
