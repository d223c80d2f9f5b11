// Command line of the native schema-engine binary, as the Prisma CLI uses it:
//   schema-engine [--datamodels <path>]... [--datasource <json>]
//                 [--enabled-preview-features <list>] [--extension-types <json>]
//                 [cli <command>]
//   schema-engine --version | --help
import { CLI_COMMANDS } from './cli-commands.js';

export class UsageError extends Error {}

export const USAGE = `Usage: schema-engine [OPTIONS] [cli <COMMAND>]

Without a command, serves JSON-RPC 2.0 on stdin/stdout (one message per line).

Options:
  --datamodels <PATH>                 Prisma schema file (repeatable)
  --datasource <JSON>                 {"url": "postgresql://...", "shadowDatabaseUrl": "..."}
  --enabled-preview-features <LIST>   accepted and ignored
  --extension-types <JSON>            accepted and ignored
  -V, --version                       print the engine version
  -h, --help                          print this help

Commands (cli <COMMAND>):
  ${CLI_COMMANDS.join('\n  ')}

Environment:
  NEKOMORTO_SCHEMA_ENGINE_TRACE=<file>   append every stdin/stdout/stderr line to <file> (secrets redacted)
`;

const VALUE_OPTIONS = {
  '--datamodels': (options, value) => options.datamodels.push(value),
  '--datasource': (options, value) => {
    options.datasource = value;
  },
  '--enabled-preview-features': (options, value) => {
    options.previewFeatures = value.split(',').filter(Boolean);
  },
  '--extension-types': (options, value) => {
    options.extensionTypes = value;
  },
};

export function parseArgs(argv) {
  const options = {
    datamodels: [],
    datasource: undefined,
    previewFeatures: [],
    extensionTypes: undefined,
    version: false,
    help: false,
    cliCommand: undefined,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals > 0 ? arg.slice(0, equals) : arg;
    if (VALUE_OPTIONS[flag]) {
      let value = equals > 0 ? arg.slice(equals + 1) : argv[index + 1];
      if (equals < 0) index += 1;
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      VALUE_OPTIONS[flag](options, value);
    } else if (flag === '-V' || flag === '--version') {
      options.version = true;
    } else if (flag === '-h' || flag === '--help') {
      options.help = true;
    } else if (flag === 'cli' && options.cliCommand === undefined) {
      const command = argv[index + 1];
      if (!CLI_COMMANDS.includes(command)) {
        throw new UsageError(`cli needs one of: ${CLI_COMMANDS.join(', ')}`);
      }
      options.cliCommand = command;
      index += 1;
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  return options;
}
