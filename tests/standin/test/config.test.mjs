import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, parseBooleanWord, parseOrigin, parseOriginList } from "../app/server/config.js";

const DB = "postgresql://user:pass@127.0.0.1:5432/db";
const PROD = { NODE_ENV: "production", DATABASE_URL: DB, SESSION_SECRET: "s", APP_ORIGIN: "https://nekomata.moe" };

test("maintenance words: 1/true/yes/on and 0/false/no/off, anything else is false", () => {
  for (const word of ["1", "true", "yes", "on", "TRUE", " On "]) assert.equal(parseBooleanWord(word), true, word);
  for (const word of ["0", "false", "no", "off", "OFF"]) assert.equal(parseBooleanWord(word), false, word);
  for (const word of ["", "enabled", "y", "2", "maybe", undefined]) assert.equal(parseBooleanWord(word), false, String(word));
  assert.equal(loadConfig({ DATABASE_URL: DB, MAINTENANCE_MODE: "yes" }).maintenanceMode, true);
  assert.equal(loadConfig({ DATABASE_URL: DB, MAINTENANCE_MODE: "enabled" }).maintenanceMode, false);
  assert.equal(loadConfig({ DATABASE_URL: DB }).maintenanceMode, false);
});

test("origins: absolute http(s) scheme://host[:port] only", () => {
  assert.equal(parseOrigin("https://nekomata.moe"), "https://nekomata.moe");
  assert.equal(parseOrigin("https://nekomata.moe/"), "https://nekomata.moe");
  assert.equal(parseOrigin("http://127.0.0.1:38080"), "http://127.0.0.1:38080");
  assert.equal(parseOrigin("HTTPS://WWW.Nekomata.moe"), "https://www.nekomata.moe");
  for (const bad of ["nekomata.moe", "ftp://x.org", "https://x.org/path", "https://x.org?q=1", "https://u:p@x.org", "//x.org", "https://"]) {
    assert.equal(parseOrigin(bad), null, bad);
  }
});

test("origin lists: CSV, blanks ignored, first is canonical, any bad entry throws", () => {
  assert.deepEqual(parseOriginList("https://nekomata.moe, https://www.nekomata.moe,", "APP_ORIGIN"), [
    "https://nekomata.moe",
    "https://www.nekomata.moe",
  ]);
  assert.deepEqual(parseOriginList(undefined, "ADMIN_ORIGINS"), []);
  assert.throws(() => parseOriginList("https://ok.example,nekomata.moe", "APP_ORIGIN"), /Invalid origin in APP_ORIGIN: "nekomata\.moe"/);
  assert.throws(() => loadConfig({ ...PROD, ADMIN_ORIGINS: "admin.example" }), /Invalid origin in ADMIN_ORIGINS/);
  assert.throws(() => loadConfig({ DATABASE_URL: DB, APP_ORIGIN: "not an origin" }), /Invalid origin in APP_ORIGIN/);
  assert.equal(loadConfig({ ...PROD, APP_ORIGIN: "https://a.example,https://b.example" }).canonicalOrigin, "https://a.example");
});

test("DATABASE_URL is required before anything else", () => {
  assert.throws(() => loadConfig({}), { message: "DATABASE_URL is required" });
  assert.throws(() => loadConfig({ DATABASE_URL: "  ", NODE_ENV: "production" }), { message: "DATABASE_URL is required" });
});

test("production needs SESSION_SECRET (SESSION_SECRETS does not replace it) and APP_ORIGIN", () => {
  assert.throws(() => loadConfig({ ...PROD, SESSION_SECRET: undefined }), { message: "Missing SESSION_SECRET in env." });
  assert.throws(() => loadConfig({ ...PROD, SESSION_SECRET: undefined, SESSION_SECRETS: "a,b" }), {
    message: "Missing SESSION_SECRET in env.",
  });
  assert.throws(() => loadConfig({ ...PROD, APP_ORIGIN: "" }), { message: "Missing APP_ORIGIN in env." });
  assert.throws(() => loadConfig({ ...PROD, APP_ORIGIN: " , " }), { message: "Missing APP_ORIGIN in env." });
  assert.doesNotThrow(() => loadConfig({ DATABASE_URL: DB }));
});

test("defaults: port 8080, user_sessions, 10 x 3000 ms boot retries", () => {
  const config = loadConfig({ DATABASE_URL: DB });
  assert.equal(config.port, 8080);
  assert.equal(config.sessionTable, "user_sessions");
  assert.equal(config.dbStartupMaxAttempts, 10);
  assert.equal(config.dbStartupRetryDelayMs, 3000);
  assert.equal(config.operationalHealthToken, null);
  assert.equal(config.isProduction, false);
  const custom = loadConfig({
    DATABASE_URL: DB,
    PORT: "38080",
    SESSION_TABLE: "sessoes",
    DB_STARTUP_MAX_ATTEMPTS: "3",
    DB_STARTUP_RETRY_DELAY_MS: "0",
  });
  assert.deepEqual([custom.port, custom.sessionTable, custom.dbStartupMaxAttempts, custom.dbStartupRetryDelayMs], [38080, "sessoes", 3, 0]);
  assert.throws(() => loadConfig({ DATABASE_URL: DB, PORT: "http" }), /Invalid PORT/);
  assert.throws(() => loadConfig({ DATABASE_URL: DB, PORT: "70000" }), /Invalid PORT/);
});

test("STANDIN_REQUIRED_DEFINED_VARS: defined (even empty) in production", () => {
  const env = { ...PROD, STANDIN_REQUIRED_DEFINED_VARS: "GOOGLE_CLIENT_ID,GOOGLE_CLIENT_SECRET" };
  assert.throws(() => loadConfig(env), { message: "Missing GOOGLE_CLIENT_ID in env." });
  assert.doesNotThrow(() => loadConfig({ ...env, GOOGLE_CLIENT_ID: "", GOOGLE_CLIENT_SECRET: "" }));
  assert.doesNotThrow(() => loadConfig({ ...env, NODE_ENV: "development" }));
});
