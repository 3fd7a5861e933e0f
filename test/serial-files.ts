/**
 * Worker test files that inject faults into the shared local endpoints (`faults()`) or count
 * their requests (`endpointRequests()`, `resetEndpointStats()`): they run one at a time, after
 * the other files (which run in parallel), so a fault never reaches another file's requests and
 * no other file's traffic lands in a count. test/local/serial-files.test.ts fails when a file
 * uses those helpers without being listed here.
 */
export const SERIAL_WORKER_FILES = [
  'test/authz-check.test.ts',
  'test/durable-effects.test.ts',
  'test/fault-matrix.test.ts',
  'test/health.test.ts',
  'test/idempotency.test.ts',
  'test/invitations.test.ts',
  'test/lockout.test.ts',
  'test/members.test.ts',
  'test/migrations.test.ts',
  'test/outages.test.ts',
  'test/rate-limit.test.ts',
  'test/round-trips.test.ts',
  'test/signing-keys.test.ts',
  'test/tenant-resolution.test.ts',
]
