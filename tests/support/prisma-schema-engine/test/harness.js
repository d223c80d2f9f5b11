// Shared helpers for the tests: a throwaway PostgreSQL database per test
// suite, a scratch Prisma project, and the real Prisma CLI pointed at the
// stand-in engine.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ENGINE_PATH = join(PACKAGE_DIR, 'schema-engine');

const PG_URL_VARIABLE = 'NEKOMORTO_TEST_PG_URL';
const PRISMA_CLI_VARIABLE = 'NEKOMORTO_TEST_PRISMA_CLI';
const COMMAND_TIMEOUT_MS = 120_000;

export function adminUrl() {
  const url = process.env[PG_URL_VARIABLE];
  if (!url) {
    throw new Error(
      `${PG_URL_VARIABLE} is not set. Set it to a PostgreSQL superuser URL, for example ` +
        `${PG_URL_VARIABLE}=postgresql://postgres:secret@127.0.0.1:55410/postgres ` +
        '(the tests create and drop their own throwaway databases on that server).',
    );
  }
  return url;
}

// The Prisma CLI entry point: the devDependency, or the prisma package (or
// its build/index.js) named by NEKOMORTO_TEST_PRISMA_CLI.
export function prismaCliPath() {
  const override = process.env[PRISMA_CLI_VARIABLE];
  if (override) return override.endsWith('.js') ? resolve(override) : join(resolve(override), 'build', 'index.js');
  try {
    const require = createRequire(join(PACKAGE_DIR, 'package.json'));
    return join(dirname(require.resolve('prisma/package.json')), 'build', 'index.js');
  } catch {
    throw new Error(
      `The prisma CLI is not installed: run \`npm ci\` in ${PACKAGE_DIR} or set ${PRISMA_CLI_VARIABLE} to a prisma@7.8.0 package directory.`,
    );
  }
}

export function databaseUrl(name, { password } = {}) {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  if (password !== undefined) url.password = password;
  return url.href;
}

export function uniqueName(purpose) {
  return `nekomorto_shim_${purpose}_${randomBytes(4).toString('hex')}`;
}

export async function query(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(name) {
  await query(adminUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

export async function tableNames(url) {
  const rows = await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  return rows.map((row) => row.tablename);
}

const PRISMA_CONFIG = `export default {
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL },
};
`;

const SCHEMA = `generator client {
  provider = "prisma-client"
  output   = "../generated/prisma"
}

datasource db {
  provider = "postgresql"
}

model Account {
  id   Int    @id @default(autoincrement())
  name String
}
`;

// A Prisma project in a temporary directory, holding the given migrations
// ({ "<timestamp>_<name>": "<sql>" }).
export class ScratchProject {
  static async create(migrations = {}) {
    const project = new ScratchProject(await mkdtemp(join(tmpdir(), 'nekomorto-shim-')));
    await mkdir(join(project.migrationsDir), { recursive: true });
    await writeFile(join(project.dir, 'prisma.config.mjs'), PRISMA_CONFIG);
    await writeFile(join(project.dir, 'prisma', 'schema.prisma'), SCHEMA);
    await writeFile(join(project.migrationsDir, 'migration_lock.toml'), 'provider = "postgresql"\n');
    for (const [name, sql] of Object.entries(migrations)) await project.writeMigration(name, sql);
    return project;
  }

  constructor(dir) {
    this.dir = dir;
    this.migrationsDir = join(dir, 'prisma', 'migrations');
  }

  async writeMigration(name, sql) {
    await mkdir(join(this.migrationsDir, name), { recursive: true });
    await writeFile(join(this.migrationsDir, name, 'migration.sql'), sql);
  }

  async remove() {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function run(file, args, options) {
  return new Promise((resolvePromise) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

function cleanEnvironment(extra) {
  const env = { ...process.env };
  delete env.DATABASE_URL;
  delete env.NEKOMORTO_SCHEMA_ENGINE_TRACE;
  return {
    ...env,
    PRISMA_SCHEMA_ENGINE_BINARY: ENGINE_PATH,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    NO_COLOR: '1',
    ...extra,
  };
}

// Runs `prisma <args>` in the project against databaseUrl.
export function prisma(project, args, url) {
  return run(process.execPath, [prismaCliPath(), ...args], {
    cwd: project.dir,
    env: cleanEnvironment({ DATABASE_URL: url }),
  });
}

// Runs the stand-in engine itself.
export function engine(args, { input } = {}) {
  return new Promise((resolvePromise) => {
    const child = execFile(ENGINE_PATH, args, { timeout: COMMAND_TIMEOUT_MS, env: cleanEnvironment({}) }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}
