// End-to-end checks of the stand-in against a real PostgreSQL: the tagged
// repository, Prisma's CLI through the schema-engine shim, the server and every
// ops script. Runs only when NEKOMORTO_TEST_PG_URL (a superuser URL) is set and
// the shim (tests/support/prisma-schema-engine, after `npm ci` there) is present.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STANDIN = path.resolve(HERE, "..");
const APP_SRC = path.join(STANDIN, "app");
const ADMIN_URL = process.env.NEKOMORTO_TEST_PG_URL;
const ENGINE =
  process.env.PRISMA_SCHEMA_ENGINE_BINARY ||
  path.resolve(STANDIN, "..", "support", "prisma-schema-engine", "schema-engine");
const ENGINE_READY = fs.existsSync(ENGINE) && fs.existsSync(path.join(path.dirname(ENGINE), "node_modules"));
const SKIP = !ADMIN_URL
  ? "NEKOMORTO_TEST_PG_URL is not set"
  : !ENGINE_READY
    ? `schema engine shim not ready at ${ENGINE}`
    : !fs.existsSync(path.join(APP_SRC, "node_modules", "prisma"))
      ? "run npm ci in tests/standin/app first"
      : false;

const pg = SKIP ? null : createRequire(path.join(APP_SRC, "package.json"))("pg");
const work = SKIP ? null : fs.mkdtempSync(path.join(os.tmpdir(), "standin-e2e-"));
const databases = [];
const servers = new Set();

function databaseUrl(name) {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function createDatabase(label) {
  const name = `standin_e2e_${label}_${process.pid}`;
  await admin(`DROP DATABASE IF EXISTS "${name}"`);
  await admin(`CREATE DATABASE "${name}"`);
  databases.push(name);
  return databaseUrl(name);
}

async function query(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A release folder for TAG: exported from the built repository, node_modules shared. */
let releases = 0;
function checkout(repo, tag) {
  releases += 1;
  const dir = path.join(work, `release-${releases}-${tag}`);
  fs.mkdirSync(dir);
  execFileSync("sh", ["-c", `git -C "${repo}" archive --format=tar "${tag}" | tar -x -C "${dir}"`]);
  fs.writeFileSync(path.join(dir, "REVISION"), `${execFileSync("git", ["-C", repo, "rev-parse", tag], { encoding: "utf8" }).trim()}\n`);
  fs.symlinkSync(path.join(APP_SRC, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

function run(dir, env, command, args, { timeout = 120_000 } = {}) {
  const result = spawnSync(command, args, { cwd: dir, env, encoding: "utf8", timeout });
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", all: `${result.stdout}${result.stderr}` };
}

const npm = (dir, env, script, ...args) =>
  run(dir, env, "npm", ["run", "-s", script, ...(args.length ? ["--", ...args] : [])]);
const prisma = (dir, env, ...args) => run(dir, env, process.execPath, [path.join(dir, "node_modules/prisma/build/index.js"), ...args]);

async function startServer(dir, env) {
  const child = spawn(process.execPath, ["server/index.js"], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  servers.add(child);
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const started = Date.now();
  const base = `http://127.0.0.1:${env.PORT}`;
  while (Date.now() - started < 20_000) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${log}`);
    try {
      const response = await fetch(`${base}/api/health/live`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return { child, base, bootMs: Date.now() - started, log: () => log };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not answer within 20 s: ${log}`);
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve();
    server.child.once("exit", () => resolve());
    server.child.kill("SIGTERM");
  }).then(() => servers.delete(server.child));
}

let repo;

before(() => {
  if (SKIP) return;
  repo = path.join(work, "standin.git");
  execFileSync(path.join(STANDIN, "build-repo.sh"), [repo], { stdio: "ignore" });
});

after(async () => {
  if (SKIP) return;
  for (const child of servers) child.kill("SIGKILL");
  for (const name of databases) await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  fs.rmSync(work, { recursive: true, force: true });
});

describe("stand-in end to end", { skip: SKIP }, () => {
  test("v1: migrate, build, boot, health, maintenance and every ops script", { timeout: 240_000 }, async () => {
    const url = await createDatabase("v1");
    const dir = checkout(repo, "v1");
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME ?? os.tmpdir(),
      PRISMA_SCHEMA_ENGINE_BINARY: ENGINE,
    };
    fs.writeFileSync(
      path.join(dir, ".env"),
      `NODE_ENV=production\nDATABASE_URL=${url}\nSESSION_SECRET=e2e\nAPP_ORIGIN=http://127.0.0.1:${port}\nPORT=${port}\n`,
    );
    const serverEnv = { ...env, NODE_ENV: "production", DATABASE_URL: url, SESSION_SECRET: "e2e", APP_ORIGIN: `http://127.0.0.1:${port}`, PORT: String(port) };

    // Scripts need .env; the server needs DATABASE_URL.
    fs.renameSync(path.join(dir, ".env"), path.join(dir, "env.keep"));
    const noEnv = npm(dir, env, "uploads:reorganize");
    assert.equal(noEnv.code, 9, noEnv.all);
    assert.match(noEnv.all, /\.env: not found/);
    fs.writeFileSync(path.join(dir, ".env"), "");
    const noUrl = npm(dir, env, "users:migrate-permissions-v2");
    assert.equal(noUrl.code, 1);
    assert.match(noUrl.stderr, /^DATABASE_URL obrigatoria\.$/m);
    const serverNoUrl = run(dir, env, process.execPath, ["server/index.js"]);
    assert.equal(serverNoUrl.code, 1);
    assert.match(serverNoUrl.stderr, /DATABASE_URL is required/);
    fs.renameSync(path.join(dir, "env.keep"), path.join(dir, ".env"));

    assert.equal(npm(dir, env, "prisma:generate").code, 0);
    const migrate = npm(dir, env, "prisma:migrate:deploy");
    assert.equal(migrate.code, 0, migrate.all);
    assert.match(npm(dir, env, "prisma:migrate:deploy").all, /No pending migrations to apply/);
    const status = prisma(dir, env, "migrate", "status");
    assert.equal(status.code, 0, status.all);
    assert.match(status.all, /Database schema is up to date!/);
    const build = npm(dir, env, "build");
    assert.equal(build.code, 0, build.all);
    const commit = fs.readFileSync(path.join(dir, "REVISION"), "utf8").trim();
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "dist/build-info.json"), "utf8")).commitSha, commit);

    let server = await startServer(dir, serverEnv);
    assert.ok(server.bootMs >= 1400, `boot took ${server.bootMs} ms`);
    const health = await fetch(`${server.base}/api/health`);
    assert.equal(health.headers.get("x-api-version"), "v1");
    assert.equal(health.headers.get("cache-control"), "no-store");
    assert.ok(health.headers.get("x-request-id"));
    const detailed = await health.json();
    assert.equal(detailed.status, "degraded"); // public/uploads does not exist yet
    assert.equal(detailed.build.commitSha, commit);
    const outside = await (await fetch(`${server.base}/api/health/ready`, { headers: { "X-Forwarded-For": "198.51.100.7" } })).json();
    assert.deepEqual(outside.build, { apiVersion: "v1" });
    assert.deepEqual(Object.keys(outside.checks[0]).sort(), ["latencyMs", "name", "status"]);

    const seed = npm(dir, env, "db:seed");
    assert.equal(seed.code, 0, seed.all);
    assert.match(npm(dir, env, "db:seed").stdout, /already present/);
    const html = await (await fetch(`${server.base}/`)).text();
    assert.match(html, /data-version="v1"/);
    assert.equal((await fetch(`${server.base}/assets/__smoke_missing__.js`)).status, 404);
    assert.equal((await fetch(`${server.base}/api/posts`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"title":"e2e"}' })).status, 201);
    const session = await (await fetch(`${server.base}/api/session`)).json();
    assert.equal(session.views, 1);
    assert.equal((await query(url, "SELECT count(*)::int AS n FROM user_sessions"))[0].n, 1);

    const check = (args, code, pattern) => {
      const result = npm(dir, env, ...args);
      assert.equal(result.code, code, `${args.join(" ")}: ${result.all}`);
      if (pattern) assert.match(result.all, pattern, args.join(" "));
      return result;
    };
    check(["uploads:check-integrity"], 1, /7 need reorganizing/);
    check(["uploads:reorganize"], 0, /Dry-run only/);
    check(["uploads:reorganize", "--apply"], 0, /Applied: 6 file\(s\) relocated/);
    check(["uploads:reorganize", "--apply"], 0, /Nothing to reorganize/);
    check(["uploads:check-integrity", "--mode=fast"], 0, /^OK$/m);
    check(["uploads:localize-project-images", "--project", "3"], 0, /2 remote image\(s\) to download/);
    check(["uploads:localize-project-images", "--apply"], 0, /Applied: 3 image\(s\) localized, 0 failed/);
    check(["uploads:localize-project-images", "--project=99"], 1, /project 99 not found/);
    check(["uploads:isolate-project-images", "--apply"], 0, /Applied: 5 file\(s\) copied, 3 project\(s\) updated/);
    check(["uploads:isolate-project-images", "--apply"], 0, /Nothing to isolate/);
    check(["uploads:generate-inventory"], 0, /Inventory: 19 row\(s\) inserted/);
    check(["uploads:generate-inventory"], 1, /Unique constraint failed on the fields: \(`url`\)/);
    check(["uploads:check-integrity", "--mode=deep"], 0, /19 inventory row\(s\) \(0 mismatched\)/);
    check(["db:backup"], 0, /wrote backups\/backup-\d{8}T\d{6}Z/);

    const dry = JSON.parse(check(["users:migrate-permissions-v2"], 0).stdout);
    assert.equal(dry.mode, "dry-run");
    assert.deepEqual(dry.totals, { users: 5, changed: 5, unchanged: 0, rolesAdded: 5, rolesRemoved: 1, unmappedPermissions: 1 });
    const first = JSON.parse(check(["users:migrate-permissions-v2", "--apply"], 0).stdout);
    assert.equal(first.totals.changed, 5);
    assert.ok(fs.existsSync(path.join(dir, first.backupFile)));
    const second = JSON.parse(check(["users:migrate-permissions-v2", "--apply"], 0).stdout);
    assert.equal(second.totals.changed, 0);
    assert.notEqual(second.backupFile, first.backupFile);
    assert.equal((await query(url, "SELECT count(*)::int AS n FROM audit_log"))[0].n, 2);

    check(["api:health:check", `--base=${server.base}`, "--expect-source=db", "--expect-maintenance=false"], 0, /^OK$/m);
    check(["api:health:check", `--base=${server.base}`, "--expect-maintenance=true"], 1, /expected maintenanceMode=true/);
    check(["api:smoke", `--base=${server.base}`], 1, /FAIL: 3 of 10 checks failed/);

    await stopServer(server);
    server = await startServer(dir, { ...serverEnv, MAINTENANCE_MODE: "on" });
    const refused = await fetch(`${server.base}/api/posts/1`, { method: "DELETE" });
    assert.equal(refused.status, 503);
    assert.deepEqual(await refused.json(), { error: "maintenance_mode" });
    assert.equal((await fetch(`${server.base}/api/posts`)).status, 200);
    check(["api:health:check", `--base=${server.base}`, "--expect-source=db", "--expect-maintenance=true"], 0, /status=degraded/);
    await stopServer(server);
  });

  test("tags: v2 migrates, v3-bad-migration fails, resolve, v3 deploys; v2-unhealthy fails its health", { timeout: 240_000 }, async () => {
    const url = await createDatabase("tags");
    const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), PRISMA_SCHEMA_ENGINE_BINARY: ENGINE, DATABASE_URL: url };
    for (const tag of ["v1", "v2"]) {
      const deploy = prisma(checkout(repo, tag), env, "migrate", "deploy");
      assert.equal(deploy.code, 0, `${tag}: ${deploy.all}`);
    }
    const bad = checkout(repo, "v3-bad-migration");
    const failed = prisma(bad, env, "migrate", "deploy");
    assert.notEqual(failed.code, 0);
    assert.match(failed.all, /P3018/);
    const status = prisma(bad, env, "migrate", "status");
    assert.equal(status.code, 1);
    assert.match(status.all, /Following migrations? have failed/);
    assert.match(prisma(bad, env, "migrate", "deploy").all, /P3009/);

    const good = checkout(repo, "v3");
    assert.equal(prisma(good, env, "migrate", "resolve", "--rolled-back", "20260301000000_project_tags").code, 0);
    const deploy = prisma(good, env, "migrate", "deploy");
    assert.equal(deploy.code, 0, deploy.all);
    assert.match(prisma(good, env, "migrate", "status").all, /Database schema is up to date!/);
    const tags = await query(url, "SELECT count(*)::int AS n FROM project_tags");
    assert.equal(tags[0].n, 0);

    const unhealthy = checkout(repo, "v2-unhealthy");
    assert.equal(npm(unhealthy, env, "prisma:generate").code, 0);
    assert.equal(npm(unhealthy, env, "build").code, 0);
    const port = await freePort();
    const server = await startServer(unhealthy, { ...env, PORT: String(port), DB_STARTUP_MAX_ATTEMPTS: "2" });
    const ready = await fetch(`${server.base}/api/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, "fail");
    assert.equal((await fetch(`${server.base}/api/health/live`)).status, 200);
    assert.match(await (await fetch(`${server.base}/`)).text(), /data-version="v2-unhealthy"/);
    await stopServer(server);
  });
});
