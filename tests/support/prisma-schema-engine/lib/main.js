import { USAGE, UsageError, parseArgs } from './args.js';
import { runCliCommand } from './cli-commands.js';
import { describeConnection, parseDatasourceArgument } from './datasource.js';
import { EngineSession } from './engine-session.js';
import { captureStrayOutput, createLogger, createTracer } from './log.js';
import { createRedactor, urlSecrets } from './redact.js';
import { RpcServer } from './rpc-server.js';
import { loadWasmSchemaEngine } from './wasm-engine.js';

const TRACE_VARIABLE = 'NEKOMORTO_SCHEMA_ENGINE_TRACE';

function writeOut(stream, text) {
  return new Promise((resolve) => stream.write(text, resolve));
}

function secretsOf(datasourceJson) {
  try {
    const datasource = parseDatasourceArgument(datasourceJson);
    return [datasourceJson, ...urlSecrets(datasource?.url), ...urlSecrets(datasource?.shadowDatabaseUrl)];
  } catch {
    return datasourceJson ? [datasourceJson] : [];
  }
}

// Returns the process exit code.
export async function main(argv) {
  let options;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    await writeOut(process.stderr, `error: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    await writeOut(process.stdout, USAGE);
    return 0;
  }
  if (options.version) {
    const { gitHash } = await loadWasmSchemaEngine();
    await writeOut(process.stdout, `schema-engine-cli ${gitHash}\n`);
    return 0;
  }

  const redact = createRedactor(secretsOf(options.datasource));
  const trace = createTracer(process.env[TRACE_VARIABLE], redact);
  trace('argv', JSON.stringify(argv));
  const logger = createLogger({ redact, trace });
  captureStrayOutput(logger);

  let datasource;
  try {
    datasource = parseDatasourceArgument(options.datasource);
  } catch (error) {
    logger.error(error.message, { is_panic: false, error_code: error.code ?? '' }, 'schema_engine::logger');
    return 1;
  }

  if (options.cliCommand) {
    const { gitHash } = await loadWasmSchemaEngine();
    return runCliCommand(options.cliCommand, { datasource, logger, gitHash });
  }

  const wasm = await loadWasmSchemaEngine();
  logger.info('Starting schema engine RPC server', { git_hash: wasm.gitHash });
  const session = new EngineSession({
    // An unusable URL is reported on each request, as the native engine does.
    describeConnections: () => ({
      connection: datasource ? describeConnection(datasource.url) : undefined,
      shadowConnection: datasource?.shadowDatabaseUrl ? describeConnection(datasource.shadowDatabaseUrl) : undefined,
    }),
    datamodelPaths: options.datamodels,
    logger,
  });
  const server = new RpcServer({ session, logger, trace, redact, takePanicMessage: wasm.takePanicMessage });
  return server.serve();
}
