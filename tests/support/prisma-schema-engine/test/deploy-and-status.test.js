import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScratchProject, databaseUrl, dropDatabase, prisma, query, tableNames, uniqueName } from './harness.js';

const INIT = `CREATE TABLE "Account" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);
`;

// Semicolons inside a string and a function body: the script must reach the
// server whole, not cut at every ';'.
const WITH_FUNCTION = `CREATE TABLE "Note" ("id" SERIAL PRIMARY KEY, "body" TEXT NOT NULL DEFAULT 'a;b');
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE total bigint;
BEGIN
  SELECT count(*) INTO total FROM "Note";
  RETURN total;
END;
$$;
`;

const LATER = 'ALTER TABLE "Account" ADD COLUMN "email" TEXT;\n';

describe('migrate deploy and migrate status', () => {
  const name = uniqueName('deploy');
  let project;
  let url;

  before(async () => {
    url = databaseUrl(name);
    project = await ScratchProject.create({ '20240101000000_init': INIT, '20240102000000_note': WITH_FUNCTION });
  });

  after(async () => {
    await project?.remove();
    if (url) await dropDatabase(name);
  });

  test('deploy creates the missing database and applies every pending migration', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, new RegExp(`PostgreSQL database ${name} created`));
    assert.match(result.output, /20240101000000_init/);
    assert.match(result.output, /20240102000000_note/);
    assert.match(result.output, /All migrations have been successfully applied\./);
    assert.deepEqual(await tableNames(url), ['Account', 'Note', '_prisma_migrations']);
    const [{ body }] = await query(url, `SELECT column_default AS body FROM information_schema.columns WHERE table_name = 'Note' AND column_name = 'body'`);
    assert.equal(body, "'a;b'::text");
    assert.deepEqual(await query(url, 'SELECT note_count()::int AS n'), [{ n: 0 }]);
    const rows = await query(url, 'SELECT migration_name, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
    assert.deepEqual(rows, [
      { migration_name: '20240101000000_init', finished: true, applied_steps_count: 1 },
      { migration_name: '20240102000000_note', finished: true, applied_steps_count: 1 },
    ]);
  });

  test('a second deploy has nothing to do', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /No pending migrations to apply\./);
    assert.equal((await query(url, 'SELECT count(*)::int AS n FROM _prisma_migrations'))[0].n, 2);
  });

  test('status is clean when everything is applied', async () => {
    const result = await prisma(project, ['migrate', 'status'], url);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Database schema is up to date!/);
  });

  test('status exits 1 and names a pending migration', async () => {
    await project.writeMigration('20240103000000_later', LATER);
    const result = await prisma(project, ['migrate', 'status'], url);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /Following migration have not yet been applied:\s+20240103000000_later/);
  });

  test('deploy then applies only the pending migration', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /20240103000000_later/);
    assert.doesNotMatch(result.output, /20240101000000_init\//);
    const status = await prisma(project, ['migrate', 'status'], url);
    assert.equal(status.code, 0, status.output);
  });
});

describe('two deploys at the same time', () => {
  const name = uniqueName('concurrent');
  let project;
  let url;

  before(async () => {
    url = databaseUrl(name);
    await query(databaseUrl('postgres'), `CREATE DATABASE "${name}"`);
    project = await ScratchProject.create({ '20240101000000_slow': `${INIT}SELECT pg_sleep(2);\n` });
  });

  after(async () => {
    await project?.remove();
    if (url) await dropDatabase(name);
  });

  test('apply each migration once: the second waits for the first one\'s lock', async () => {
    const results = await Promise.all([prisma(project, ['migrate', 'deploy'], url), prisma(project, ['migrate', 'deploy'], url)]);
    for (const result of results) assert.equal(result.code, 0, result.output);
    const applied = results.filter((result) => /All migrations have been successfully applied\./.test(result.output));
    assert.equal(applied.length, 1, results.map((result) => result.output).join('\n----\n'));
    assert.deepEqual(await query(url, 'SELECT migration_name FROM _prisma_migrations'), [{ migration_name: '20240101000000_slow' }]);
  });
});
