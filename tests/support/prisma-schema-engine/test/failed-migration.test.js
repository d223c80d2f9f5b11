import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScratchProject, databaseUrl, dropDatabase, prisma, query, tableNames, uniqueName } from './harness.js';

const INIT = `CREATE TABLE "Account" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);
`;

// Fails on its fourth statement, after creating a table, inserting a row and
// adding a column.
const HALF_WAY = `CREATE TABLE "Invoice" ("id" SERIAL PRIMARY KEY, "total" INTEGER NOT NULL);
INSERT INTO "Account" ("name") VALUES ('written by the failing migration');
ALTER TABLE "Account" ADD COLUMN "plan" TEXT;
UPDATE "Missing" SET "x" = 1;
CREATE INDEX "Invoice_total_idx" ON "Invoice" ("total");
`;

const FIXED = `CREATE TABLE "Invoice" ("id" SERIAL PRIMARY KEY, "total" INTEGER NOT NULL);
INSERT INTO "Account" ("name") VALUES ('written by the fixed migration');
ALTER TABLE "Account" ADD COLUMN "plan" TEXT;
CREATE INDEX "Invoice_total_idx" ON "Invoice" ("total");
`;

const FAILING = '20240102000000_invoice';

async function accountColumns(url) {
  const rows = await query(url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'Account' ORDER BY ordinal_position");
  return rows.map((row) => row.column_name);
}

async function migrationRow(url, name) {
  const rows = await query(
    url,
    `SELECT started_at IS NOT NULL AS started, finished_at IS NOT NULL AS finished,
            rolled_back_at IS NOT NULL AS rolled_back, applied_steps_count, logs
       FROM _prisma_migrations WHERE migration_name = $1 ORDER BY started_at`,
    [name],
  );
  return rows;
}

describe('a migration failing half-way', () => {
  const name = uniqueName('failed');
  let project;
  let url;

  before(async () => {
    url = databaseUrl(name);
    project = await ScratchProject.create({ '20240101000000_init': INIT });
    const init = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(init.code, 0, init.output);
    await query(url, `INSERT INTO "Account" ("name") VALUES ('existing')`);
    await project.writeMigration(FAILING, HALF_WAY);
  });

  after(async () => {
    await project?.remove();
    if (url) await dropDatabase(name);
  });

  test('deploy fails with P3018 naming the migration and the database error', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /P3018/);
    assert.match(result.output, new RegExp(`Migration name: ${FAILING}`));
    assert.match(result.output, /Database error code: 42P01/);
    assert.match(result.output, /relation "Missing" does not exist/);
  });

  test('leaves no partial change in the database', async () => {
    assert.deepEqual(await tableNames(url), ['Account', '_prisma_migrations']);
    assert.deepEqual(await accountColumns(url), ['id', 'name']);
    assert.deepEqual(await query(url, 'SELECT name FROM "Account" ORDER BY id'), [{ name: 'existing' }]);
  });

  test('is recorded as failed: started, not finished, with logs', async () => {
    const rows = await migrationRow(url, FAILING);
    assert.equal(rows.length, 1);
    const [row] = rows;
    assert.equal(row.started, true);
    assert.equal(row.finished, false);
    assert.equal(row.rolled_back, false);
    assert.equal(row.applied_steps_count, 0);
    assert.match(row.logs, /Missing/);
  });

  test('status exits 1 and shows the resolve hints', async () => {
    const result = await prisma(project, ['migrate', 'status'], url);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, new RegExp(`Following migration have failed:\\s+${FAILING}`));
    assert.match(result.output, new RegExp(`prisma migrate resolve --rolled-back "${FAILING}"`));
    assert.match(result.output, new RegExp(`prisma migrate resolve --applied "${FAILING}"`));
  });

  test('the next deploy refuses with P3009 and changes nothing', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /P3009/);
    assert.match(result.output, new RegExp(`The \`${FAILING}\` migration started at .* failed`));
    assert.deepEqual(await tableNames(url), ['Account', '_prisma_migrations']);
  });

  test('resolve --rolled-back, then the fixed migration deploys', async () => {
    const resolved = await prisma(project, ['migrate', 'resolve', '--rolled-back', FAILING], url);
    assert.equal(resolved.code, 0, resolved.output);
    assert.match(resolved.output, new RegExp(`Migration ${FAILING} marked as rolled back\\.`));
    assert.deepEqual((await migrationRow(url, FAILING)).map((row) => row.rolled_back), [true]);

    await project.writeMigration(FAILING, FIXED);
    const deployed = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(deployed.code, 0, deployed.output);
    assert.match(deployed.output, new RegExp(FAILING));
    assert.deepEqual(await tableNames(url), ['Account', 'Invoice', '_prisma_migrations']);
    assert.deepEqual(await accountColumns(url), ['id', 'name', 'plan']);
    const history = await migrationRow(url, FAILING);
    assert.deepEqual(history.map(({ rolled_back, finished }) => ({ rolled_back, finished })), [
      { rolled_back: true, finished: false },
      { rolled_back: false, finished: true },
    ]);

    const status = await prisma(project, ['migrate', 'status'], url);
    assert.equal(status.code, 0, status.output);
    assert.match(status.output, /Database schema is up to date!/);
  });
});

describe('a failed migration fixed by hand and resolved --applied', () => {
  const name = uniqueName('hotfix');
  const failing = '20240102000000_nickname';
  let project;
  let url;

  before(async () => {
    url = databaseUrl(name);
    project = await ScratchProject.create({
      '20240101000000_init': INIT,
      [failing]: 'ALTER TABLE "Account" ADD COLUMN "nickname" TEXT;\nSELECT 1 / 0;\n',
    });
  });

  after(async () => {
    await project?.remove();
    if (url) await dropDatabase(name);
  });

  test('deploy applies the first migration and fails on the second', async () => {
    const result = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(result.code, 1, result.output);
    assert.match(result.output, /P3018/);
    assert.match(result.output, /Database error code: 22012/);
    assert.deepEqual(await accountColumns(url), ['id', 'name']);
  });

  test('resolve --applied after the hotfix makes the history clean', async () => {
    await query(url, 'ALTER TABLE "Account" ADD COLUMN "nickname" TEXT');
    const resolved = await prisma(project, ['migrate', 'resolve', '--applied', failing], url);
    assert.equal(resolved.code, 0, resolved.output);
    assert.match(resolved.output, new RegExp(`Migration ${failing} marked as applied\\.`));

    const status = await prisma(project, ['migrate', 'status'], url);
    assert.equal(status.code, 0, status.output);
    assert.match(status.output, /Database schema is up to date!/);

    const deployed = await prisma(project, ['migrate', 'deploy'], url);
    assert.equal(deployed.code, 0, deployed.output);
    assert.match(deployed.output, /No pending migrations to apply\./);
  });
});
