// Environment rules of the app (see tests/standin/README.md). Pure: takes an
// env object, returns a frozen config or throws an Error whose message is the
// one the app prints at boot.

const TRUE_WORDS = new Set(["1", "true", "yes", "on"]);
const FALSE_WORDS = new Set(["0", "false", "no", "off"]);

export const DEFAULT_PORT = 8080;
export const DEFAULT_SESSION_TABLE = "user_sessions";
export const DEFAULT_DB_STARTUP_MAX_ATTEMPTS = 10;
export const DEFAULT_DB_STARTUP_RETRY_DELAY_MS = 3000;

/** `1/true/yes/on` -> true, `0/false/no/off` -> false, anything else -> fallback. */
export function parseBooleanWord(value, fallback = false) {
  if (value === undefined || value === null) return fallback;
  const word = String(value).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return fallback;
}

/** One absolute http(s) origin (scheme://host[:port], nothing after it). */
export function parseOrigin(entry) {
  let url;
  try {
    url = new URL(entry);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (url.username || url.password || url.search || url.hash) return null;
  if (url.pathname !== "/" && url.pathname !== "") return null;
  return url.origin;
}

/** CSV of origins; every entry must be valid, empty entries are ignored. */
export function parseOriginList(value, variableName) {
  if (value === undefined || value === null) return [];
  const entries = String(value)
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  return entries.map((entry) => {
    const origin = parseOrigin(entry);
    if (!origin) {
      throw new Error(
        `Invalid origin in ${variableName}: "${entry}" (expected an absolute http(s) origin such as https://example.org).`,
      );
    }
    return origin;
  });
}

function parsePositiveInteger(value, variableName, fallback, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (value === undefined || value === null || String(value).trim() === "") return fallback;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) {
    throw new Error(`Invalid ${variableName}: "${text}" (expected an integer).`);
  }
  const number = Number(text);
  if (number < min || number > max) {
    throw new Error(`Invalid ${variableName}: ${number} (expected ${min}-${max}).`);
  }
  return number;
}

function isBlank(value) {
  return value === undefined || value === null || String(value).trim() === "";
}

/**
 * Server configuration. Throws "DATABASE_URL is required" first, then the
 * production requirements, then any malformed optional value.
 */
export function loadConfig(env) {
  if (isBlank(env.DATABASE_URL)) {
    throw new Error("DATABASE_URL is required");
  }
  const nodeEnv = env.NODE_ENV || "development";
  const isProduction = nodeEnv === "production";

  if (isProduction && isBlank(env.SESSION_SECRET)) {
    throw new Error("Missing SESSION_SECRET in env.");
  }
  if (isProduction && isBlank(env.APP_ORIGIN)) {
    throw new Error("Missing APP_ORIGIN in env.");
  }
  const appOrigins = parseOriginList(env.APP_ORIGIN, "APP_ORIGIN");
  if (isProduction && appOrigins.length === 0) {
    throw new Error("Missing APP_ORIGIN in env.");
  }
  const adminOrigins = parseOriginList(env.ADMIN_ORIGINS, "ADMIN_ORIGINS");

  // Variables the real app needs DEFINED (possibly empty) in production; the
  // stand-in checks only the names listed in STANDIN_REQUIRED_DEFINED_VARS.
  const requiredDefined = String(env.STANDIN_REQUIRED_DEFINED_VARS || "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (isProduction) {
    for (const name of requiredDefined) {
      if (env[name] === undefined) throw new Error(`Missing ${name} in env.`);
    }
  }

  const sessionSecrets = [env.SESSION_SECRET, ...String(env.SESSION_SECRETS || "").split(",")]
    .map((secret) => (secret === undefined ? "" : String(secret).trim()))
    .filter(Boolean);

  return Object.freeze({
    nodeEnv,
    isProduction,
    databaseUrl: String(env.DATABASE_URL).trim(),
    port: parsePositiveInteger(env.PORT, "PORT", DEFAULT_PORT, { min: 1, max: 65535 }),
    sessionSecrets: sessionSecrets.length > 0 ? sessionSecrets : ["standin-development-secret"],
    sessionTable: isBlank(env.SESSION_TABLE) ? DEFAULT_SESSION_TABLE : String(env.SESSION_TABLE).trim(),
    appOrigins,
    canonicalOrigin: appOrigins[0] || null,
    adminOrigins,
    maintenanceMode: parseBooleanWord(env.MAINTENANCE_MODE, false),
    operationalHealthToken: isBlank(env.OPERATIONAL_HEALTH_TOKEN) ? null : String(env.OPERATIONAL_HEALTH_TOKEN),
    dbStartupMaxAttempts: parsePositiveInteger(
      env.DB_STARTUP_MAX_ATTEMPTS,
      "DB_STARTUP_MAX_ATTEMPTS",
      DEFAULT_DB_STARTUP_MAX_ATTEMPTS,
    ),
    dbStartupRetryDelayMs: parsePositiveInteger(
      env.DB_STARTUP_RETRY_DELAY_MS,
      "DB_STARTUP_RETRY_DELAY_MS",
      DEFAULT_DB_STARTUP_RETRY_DELAY_MS,
      { min: 0 },
    ),
    minBootMs: parsePositiveInteger(env.STANDIN_MIN_BOOT_MS, "STANDIN_MIN_BOOT_MS", 1500, { min: 0 }),
  });
}
