import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminUrl, prismaCliPath, query } from './harness.js';

// Fails, with what to set, when the suite has no database to work with.
test('NEKOMORTO_TEST_PG_URL names a reachable PostgreSQL superuser', async () => {
  const url = adminUrl();
  const [{ superuser }] = await query(url, "SELECT current_setting('is_superuser') = 'on' AS superuser");
  assert.equal(superuser, true, 'the tests create and drop databases: NEKOMORTO_TEST_PG_URL must name a superuser');
});

test('the prisma 7.8.0 CLI is available', async () => {
  const { readFile } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  const manifest = JSON.parse(await readFile(join(dirname(dirname(prismaCliPath())), 'package.json'), 'utf8'));
  assert.equal(manifest.version, '7.8.0');
});
