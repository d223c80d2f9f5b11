import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScratchProject, adminUrl, databaseUrl, dropDatabase, engine, prisma, query, uniqueName } from './harness.js';

const ENGINE_HASH = '3c6e192761c0362d496ed980de936e2f3cebcd3a';

const datasourceArgs = (url) => ['--datasource', JSON.stringify({ url })];

function parseLogLines(stderr) {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

function rpcResponses(stdout) {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

test('--version names the engine build', async () => {
  const result = await engine(['--version']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `schema-engine-cli ${ENGINE_HASH}\n`);
});

describe('cli can-connect-to-database', () => {
  test('succeeds against a reachable database', async () => {
    const result = await engine([...datasourceArgs(adminUrl()), 'cli', 'can-connect-to-database']);
    assert.equal(result.code, 0, result.stderr);
    const lines = parseLogLines(result.stderr);
    assert.ok(lines.some((line) => line.fields.message === 'Connection successful'), result.stderr);
  });

  test('reports a wrong password as P1000 without printing it', async () => {
    const password = `wrong-${randomBytes(8).toString('hex')}`;
    const url = databaseUrl('postgres', { password });
    const result = await engine([...datasourceArgs(url), 'cli', 'can-connect-to-database']);
    assert.equal(result.code, 1);
    // The Prisma CLI skips the first stderr line and parses the rest as JSON.
    const [, ...rest] = parseLogLines(result.stderr);
    const failure = rest.find((line) => line.level === 'ERROR' && line.target === 'schema_engine::logger');
    assert.ok(failure, result.stderr);
    assert.equal(failure.fields.error_code, 'P1000');
    assert.match(failure.fields.message, /Authentication failed against database server at `[^`]+`/);
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(password));
  });

  test('reports a missing database as P1003', async () => {
    const result = await engine([...datasourceArgs(databaseUrl(uniqueName('absent'))), 'cli', 'can-connect-to-database']);
    assert.equal(result.code, 1);
    const failure = parseLogLines(result.stderr).find((line) => line.level === 'ERROR');
    assert.equal(failure.fields.error_code, 'P1003');
  });
});

describe('the Prisma CLI with a wrong password', () => {
  const password = `wrong-${randomBytes(8).toString('hex')}`;
  let project;

  before(async () => {
    project = await ScratchProject.create({ '20240101000000_init': 'CREATE TABLE "Account" ("id" SERIAL PRIMARY KEY);\n' });
  });

  after(async () => {
    await project?.remove();
  });

  for (const command of [['migrate', 'deploy'], ['migrate', 'status']]) {
    test(`${command.join(' ')} fails with a clear P1000 and never shows the password`, async () => {
      const result = await prisma(project, command, databaseUrl('postgres', { password }));
      assert.equal(result.code, 1, result.output);
      assert.match(result.output, /P1000: Authentication failed against database server at `[^`]+`, the provided database credentials for `[^`]+` are not valid\./);
      assert.doesNotMatch(result.output, new RegExp(password));
    });
  }
});

describe('JSON-RPC on stdin/stdout', () => {
  test('answers requests in order, rejects unknown methods and bad JSON, exits when stdin closes', async () => {
    const input = [
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'getDatabaseVersion', params: {} }),
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'noSuchMethod', params: {} }),
      '{not json',
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ensureConnectionValidity', params: { datasource: { tag: 'ConnectionString', url: 'ignored' } } }),
      '',
    ].join('\n');
    const result = await engine(datasourceArgs(adminUrl()), { input });
    assert.equal(result.code, 0, result.stderr);
    const responses = rpcResponses(result.stdout);
    assert.equal(responses.length, 4, result.stdout);
    assert.deepEqual(responses.map((response) => response.id), [1, 2, null, 3]);
    assert.match(responses[0].result, /PostgreSQL/);
    assert.equal(responses[1].error.code, -32601);
    assert.equal(responses[2].error.code, -32700);
    assert.deepEqual(responses[3].result, {});
  });
});

describe('prisma generate and db execute', () => {
  const name = uniqueName('generate');
  let project;
  let url;

  before(async () => {
    url = databaseUrl(name);
    await query(adminUrl(), `CREATE DATABASE "${name}"`);
    project = await ScratchProject.create();
  });

  after(async () => {
    await project?.remove();
    if (url) await dropDatabase(name);
  });

  test('generate works with the stand-in as PRISMA_SCHEMA_ENGINE_BINARY', async () => {
    const result = await prisma(project, ['generate'], url);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Generated Prisma Client/);
    await access(join(project.dir, 'generated', 'prisma', 'client.ts'));
  });

  test('db execute runs a script whole', async () => {
    const script = join(project.dir, 'script.sql');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(script, "CREATE TABLE kv (k text PRIMARY KEY, v text DEFAULT 'x;y');\nINSERT INTO kv (k) VALUES ('a');\n");
    const result = await prisma(project, ['db', 'execute', '--file', script], url);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(await query(url, 'SELECT k, v FROM kv'), [{ k: 'a', v: 'x;y' }]);
  });
});
