// Errors in the shape the Prisma CLI understands (error codes and messages
// follow Prisma's documented P1xxx/P3xxx catalogue).

export class UserFacingError extends Error {
  constructor(code, message, meta = {}) {
    super(message);
    this.name = 'UserFacingError';
    this.code = code;
    this.meta = meta;
  }
}

const hostPort = ({ host, port }) => `${host}:${port}`;

// Maps a failure to open a connection (a DriverAdapterError from adapter-pg or
// a raw pg error) to the error the native engine would report.
export function connectionFailure(error, target) {
  const cause = error?.name === 'DriverAdapterError' ? error.cause : undefined;
  switch (cause?.kind) {
    case 'AuthenticationFailed':
      return new UserFacingError(
        'P1000',
        `Authentication failed against database server at \`${target.host}\`, the provided database credentials for \`${target.user}\` are not valid.\n\n` +
          `Please make sure to provide valid database credentials for the database server at \`${target.host}\`.`,
        { database_host: target.host, database_user: target.user },
      );
    case 'DatabaseNotReachable':
    case 'SocketTimeout':
      return new UserFacingError(
        'P1001',
        `Can't reach database server at \`${hostPort(target)}\`\n\nPlease make sure your database server is running at \`${hostPort(target)}\`.`,
        { database_host: target.host, database_port: target.port },
      );
    case 'DatabaseDoesNotExist':
      return new UserFacingError(
        'P1003',
        `Database \`${target.database}\` does not exist on the database server at \`${hostPort(target)}\`.`,
        { database_name: target.database, database_host: target.host, database_port: target.port },
      );
    case 'DatabaseAccessDenied':
      return new UserFacingError(
        'P1010',
        `User \`${target.user}\` was denied access on the database \`${target.database}\``,
        { database_user: target.user, database_name: target.database },
      );
    case 'TlsConnectionError':
      return new UserFacingError('P1011', `Error opening a TLS connection: ${cause.reason}`, { message: cause.reason });
    case 'ConnectionClosed':
      return new UserFacingError('P1017', 'Server has closed the connection.');
    case 'TooManyConnections':
      return new UserFacingError('P2037', `Too many database connections opened: ${cause.cause}`, { message: cause.cause });
    default:
      break;
  }
  const detail = cause?.originalMessage ?? cause?.message ?? error?.message ?? String(error);
  if (/password|SASL|SCRAM|authentication/i.test(detail)) {
    return connectionFailure({ name: 'DriverAdapterError', cause: { kind: 'AuthenticationFailed' } }, target);
  }
  if (/timeout|timed out/i.test(detail)) {
    return connectionFailure({ name: 'DriverAdapterError', cause: { kind: 'DatabaseNotReachable' } }, target);
  }
  return new UserFacingError(
    'P1001',
    `Can't reach database server at \`${hostPort(target)}\`: ${detail}\n\nPlease make sure your database server is running at \`${hostPort(target)}\`.`,
    { database_host: target.host, database_port: target.port },
  );
}

// The database error of a failed migration script, as the server put it.
function describeDatabaseError(dbError) {
  const lines = [`${dbError.severity ?? 'ERROR'}: ${dbError.message}`];
  if (dbError.detail) lines.push(`DETAIL: ${dbError.detail}`);
  if (dbError.hint) lines.push(`HINT: ${dbError.hint}`);
  return lines.join('\n');
}

export function migrationScriptFailure(migrationName, dbError) {
  const databaseErrorCode = dbError.code ?? 'none';
  const databaseError = describeDatabaseError(dbError);
  return new UserFacingError(
    'P3018',
    'A migration failed to apply. New migrations cannot be applied before the error is recovered from. ' +
      'Read more about how to resolve migration issues in a production database: https://pris.ly/d/migrate-resolve\n\n' +
      `Migration name: ${migrationName}\n\nDatabase error code: ${databaseErrorCode}\n\nDatabase error:\n${databaseError}\n`,
    { migration_name: migrationName, database_error_code: databaseErrorCode, database_error: databaseError },
  );
}

export const RPC_ENGINE_ERROR = 4466;

// The `data` member of a JSON-RPC error, as the Prisma CLI reads it.
export function rpcErrorData(error, { isPanic = false } = {}) {
  const message = error?.message ?? String(error);
  if (!isPanic && typeof error?.code === 'string' && /^P\d{4}$/.test(error.code)) {
    return { is_panic: false, message, meta: error.meta ?? {}, error_code: error.code };
  }
  return { is_panic: isPanic, message, backtrace: null };
}
