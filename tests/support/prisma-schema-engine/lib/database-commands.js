// Commands that work on the server rather than inside one database: the
// native engine's `cli` subcommands and the createDatabase RPC.
import { withAdapter } from './adapter.js';
import { quoteIdentifier, withDatabase } from './datasource.js';
import { UserFacingError, connectionFailure } from './user-facing-errors.js';

const MAINTENANCE_DATABASES = ['postgres', 'template1'];

async function runStatement(connection, sql) {
  try {
    await withAdapter(connection, (adapter) => adapter.executeRaw({ sql, args: [], argTypes: [] }));
  } catch (error) {
    const kind = error?.cause?.kind;
    if (kind === 'DatabaseAlreadyExists') {
      const { target } = connection;
      throw new UserFacingError(
        'P1009',
        `Database \`${target.database}\` already exists on the database server at \`${target.host}:${target.port}\``,
        { database_name: target.database, database_host: target.host, database_port: target.port },
      );
    }
    throw error;
  }
}

export async function checkConnection(connection) {
  try {
    await withAdapter(connection, (adapter) => adapter.executeRaw({ sql: 'SELECT 1', args: [], argTypes: [] }));
  } catch (error) {
    throw connectionFailure(error, connection.target);
  }
}

// CREATE/DROP DATABASE cannot run in the database itself: connect to a
// maintenance database of the same server, like the native engine does.
async function onMaintenanceDatabase(connection, statement) {
  let lastError;
  for (const database of MAINTENANCE_DATABASES) {
    const maintenance = withDatabase(connection, database);
    try {
      await checkConnection(maintenance);
    } catch (error) {
      lastError = error;
      if (error.code === 'P1003') continue;
      throw error;
    }
    return runStatement({ ...maintenance, target: connection.target }, statement);
  }
  throw lastError;
}

export async function createDatabase(connection) {
  const name = connection.target.database;
  await onMaintenanceDatabase(connection, `CREATE DATABASE ${quoteIdentifier(name)}`);
  return name;
}

export async function dropDatabase(connection) {
  const name = connection.target.database;
  await onMaintenanceDatabase(connection, `DROP DATABASE ${quoteIdentifier(name)}`);
  return name;
}
