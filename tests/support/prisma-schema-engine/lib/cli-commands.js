// `schema-engine --datasource <json> cli <command>`: one-shot commands the
// Prisma CLI runs before opening an RPC session. Results are reported only as
// JSON log lines on stderr; the CLI skips the first line and reads an ERROR
// line with target `schema_engine::logger` as the failure.
import { checkConnection, createDatabase, dropDatabase } from './database-commands.js';
import { describeConnection } from './datasource.js';
import { UserFacingError } from './user-facing-errors.js';

export const CLI_COMMANDS = ['can-connect-to-database', 'create-database', 'drop-database'];

const ERROR_TARGET = 'schema_engine::logger';

async function run(command, connection) {
  switch (command) {
    case 'can-connect-to-database':
      await checkConnection(connection);
      return 'Connection successful';
    case 'create-database':
      return `Database '${await createDatabase(connection)}' was successfully created.`;
    case 'drop-database':
      await dropDatabase(connection);
      return 'The database was successfully dropped.';
    default:
      throw new UserFacingError('P1012', `Unknown cli command \`${command}\`.`);
  }
}

export async function runCliCommand(command, { datasource, logger, gitHash }) {
  logger.info('Starting schema engine CLI', { git_hash: gitHash });
  try {
    if (!datasource) throw new UserFacingError('P1012', 'The `cli` commands need `--datasource \'{"url": "..."}\'`.');
    logger.info(await run(command, describeConnection(datasource.url)));
    return 0;
  } catch (error) {
    logger.error(error.message, { is_panic: false, error_code: error.code ?? '' }, ERROR_TARGET);
    return 1;
  }
}
