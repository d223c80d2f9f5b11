// Turns the datasource the Prisma CLI passes (`--datasource '{"url": ...}'`)
// into a pg configuration plus the facts used in error messages.
import { UserFacingError } from './user-facing-errors.js';

// Query parameters that only Prisma's own engines understand; pg must not see
// them (pg would pass unknown ones to the server as startup parameters).
const PRISMA_ONLY_PARAMETERS = [
  'schema',
  'connection_limit',
  'connect_timeout',
  'pool_timeout',
  'socket_timeout',
  'pgbouncer',
  'statement_cache_size',
  'sslaccept',
  'sslidentity',
  'sslpassword',
  'max_connection_lifetime',
  'max_idle_connection_lifetime',
  'single_use_connections',
];

const DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

export function quoteIdentifier(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

function invalidUrl(reason) {
  return new UserFacingError('P1013', `The provided database string is invalid. ${reason}`, { details: reason });
}

export function parseDatasourceArgument(json) {
  if (json === undefined) return undefined;
  let value;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalidUrl('The --datasource argument is not valid JSON.');
  }
  // The CLI passes `{}` when the config names no URL; commands that need a
  // database then fail with their own message.
  if (typeof value?.url !== 'string' || value.url === '') return undefined;
  return { url: value.url, shadowDatabaseUrl: value.shadowDatabaseUrl ?? undefined };
}

// Describes one PostgreSQL connection string: `pgConfig` for pg's Pool,
// `schema` for the adapter, and `target` (never the password) for messages.
export function describeConnection(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl('It is not a valid URL.');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw invalidUrl(
      `The scheme \`${parsed.protocol.replace(/:$/, '')}\` is not supported: this schema engine stand-in only speaks PostgreSQL (postgresql:// or postgres://).`,
    );
  }
  const params = parsed.searchParams;
  const schema = params.get('schema') || undefined;
  const connectTimeout = Number.parseFloat(params.get('connect_timeout') ?? '');
  const stripped = new URL(parsed.href);
  for (const name of PRISMA_ONLY_PARAMETERS) stripped.searchParams.delete(name);

  const user = decodeURIComponent(parsed.username) || params.get('user') || process.env.PGUSER || process.env.USER || '';
  const target = {
    host: params.get('host') || parsed.hostname || 'localhost',
    port: Number.parseInt(parsed.port || params.get('port') || '5432', 10),
    user,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user,
  };

  const pgConfig = {
    connectionString: stripped.href,
    connectionTimeoutMillis:
      1000 * (Number.isFinite(connectTimeout) && connectTimeout > 0 ? connectTimeout : DEFAULT_CONNECT_TIMEOUT_SECONDS),
  };
  if (schema) {
    // Same effect as the native engine: unqualified names resolve in `schema`.
    const searchPath = quoteIdentifier(schema).replace(/([\\ ])/g, '\\$1');
    pgConfig.options = `${params.get('options') ?? ''} -c search_path=${searchPath}`.trim();
    // pg lets the connection string win over explicit settings.
    stripped.searchParams.delete('options');
    pgConfig.connectionString = stripped.href;
  }
  return { url, pgConfig, schema, target };
}

// The same server, another database (for CREATE/DROP DATABASE).
export function withDatabase(connection, database) {
  const url = new URL(connection.pgConfig.connectionString);
  url.pathname = `/${encodeURIComponent(database)}`;
  return {
    ...connection,
    pgConfig: { ...connection.pgConfig, connectionString: url.href },
    target: { ...connection.target, database },
  };
}
