// The native engine's RPC mode: JSON-RPC 2.0, one message per line, requests
// on stdin, responses on stdout. Requests run one at a time, in order.
import { createInterface } from 'node:readline';
import { createDatabase } from './database-commands.js';
import { describeConnection } from './datasource.js';
import { RPC_ENGINE_ERROR, UserFacingError, migrationScriptFailure, rpcErrorData } from './user-facing-errors.js';

// RPC methods that map one to one onto the wasm SchemaEngine.
const FORWARDED_METHODS = new Set([
  'applyMigrations',
  'createMigration',
  'dbExecute',
  'devDiagnostic',
  'diagnoseMigrationHistory',
  'ensureConnectionValidity',
  'evaluateDataLoss',
  'introspect',
  'introspectSql',
  'markMigrationApplied',
  'markMigrationRolledBack',
  'reset',
  'schemaPush',
]);

class MethodNotFound extends Error {}

class EnginePanic extends Error {}

function isWasmTrap(error) {
  return error instanceof WebAssembly.RuntimeError;
}

// Exit codes, as the Prisma CLI reads them: 1 is an engine error, 101 a panic.
const EXIT_OK = 0;
const EXIT_ERROR = 1;
const EXIT_PANIC = 101;

export class RpcServer {
  #session;
  #redact;
  #logger;
  #trace;
  #takePanicMessage;
  #output;
  #nextOutgoingId = 1;
  #waitingForClient = new Map();
  #crashed;
  #crash;
  #busy = false;

  constructor({ session, logger, trace, redact, takePanicMessage, output = process.stdout }) {
    this.#session = session;
    this.#redact = redact;
    this.#logger = logger;
    this.#trace = trace;
    this.#takePanicMessage = takePanicMessage;
    this.#output = output;
    // The wasm engine throws some errors (bad params, panics inside async
    // work) from a callback, where they escape every promise and the call
    // that caused them never settles. They end the request and the session.
    this.#crashed = new Promise((resolve, reject) => {
      this.#crash = reject;
    });
    this.#crashed.catch(() => {});
    process.on('uncaughtException', (error) => this.#crash(error));
    process.on('unhandledRejection', (error) => this.#crash(error));
  }

  // Resolves with the exit code once stdin closes and every request is done.
  async serve(input = process.stdin) {
    const lines = createInterface({ input, crlfDelay: Infinity });
    let queue = Promise.resolve(EXIT_OK);
    const handleInTurn = async (message) => {
      const exitCode = await this.#handle(message);
      if (exitCode !== EXIT_OK) lines.close();
      return exitCode;
    };
    const idleCrash = (error) => {
      if (this.#busy) return EXIT_OK;
      this.#logger.error(`Schema engine stand-in failed: ${error?.message ?? error}`, { is_panic: isWasmTrap(error) });
      lines.close();
      return isWasmTrap(error) ? EXIT_PANIC : EXIT_ERROR;
    };
    const crashedWhileIdle = this.#crashed.catch(idleCrash);
    lines.on('line', (line) => {
      this.#trace('stdin', line);
      if (line.trim() === '') return;
      let message;
      try {
        message = JSON.parse(line);
      } catch {
        message = undefined;
      }
      // Answers to the engine's own requests must not wait behind the
      // request that is waiting for them.
      if (message && message.method === undefined) {
        this.#receiveClientResponse(message);
        return;
      }
      queue = queue.then((exitCode) => (exitCode === EXIT_OK ? handleInTurn(message) : exitCode));
    });
    await new Promise((resolve) => lines.once('close', resolve));
    const exitCode = await queue;
    await this.#session.close();
    return exitCode !== EXIT_OK ? exitCode : Promise.race([crashedWhileIdle, EXIT_OK]);
  }

  #send(message) {
    const line = JSON.stringify(message);
    this.#trace('stdout', line);
    return new Promise((resolve) => this.#output.write(`${line}\n`, resolve));
  }

  #receiveClientResponse(message) {
    const resolve = this.#waitingForClient.get(message.id);
    if (!resolve) return;
    this.#waitingForClient.delete(message.id);
    resolve(message);
  }

  // A request from the engine to the CLI; the CLI answers on stdin.
  #askClient(method, params) {
    const id = this.#nextOutgoingId++;
    const answered = new Promise((resolve) => this.#waitingForClient.set(id, resolve));
    this.#send({ jsonrpc: '2.0', id, method, params });
    return answered;
  }

  async #handle(message) {
    if (message === undefined || typeof message !== 'object') {
      await this.#send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return EXIT_OK;
    }
    const { id, method, params } = message;
    let crashed = false;
    this.#busy = true;
    try {
      const crash = this.#crashed.catch((error) => {
        crashed = true;
        throw error;
      });
      const result = await Promise.race([this.#dispatch(method, params ?? {}), crash]);
      if (id !== undefined) await this.#send({ jsonrpc: '2.0', id, result: result ?? {} });
      return EXIT_OK;
    } catch (error) {
      return this.#fail(id, method, error, crashed);
    } finally {
      this.#busy = false;
    }
  }

  async #fail(id, method, error, crashed) {
    if (error instanceof MethodNotFound) {
      await this.#send({ jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } });
      return EXIT_OK;
    }
    const panicked = error instanceof EnginePanic || isWasmTrap(error);
    if (panicked) {
      const message = this.#takePanicMessage() || error.message;
      this.#logger.error(message, { is_panic: true }, 'schema_engine::panic');
      await this.#send({
        jsonrpc: '2.0',
        id,
        error: { code: RPC_ENGINE_ERROR, message: 'An error happened. Check the data field for details.', data: this.#redact(rpcErrorData({ message }, { isPanic: true })) },
      });
      // The wasm instance is not usable after a panic; the native engine exits too.
      return EXIT_PANIC;
    }
    this.#logger.error(error.message, { error_code: error.code ?? '', method });
    await this.#send({
      jsonrpc: '2.0',
      id,
      error: { code: RPC_ENGINE_ERROR, message: 'An error happened. Check the data field for details.', data: this.#redact(rpcErrorData(error)) },
    });
    return crashed ? EXIT_ERROR : EXIT_OK;
  }

  async #dispatch(method, params) {
    if (FORWARDED_METHODS.has(method)) {
      if (method === 'applyMigrations') return this.#applyMigrations(params);
      const engine = await this.#session.engine();
      return engine[method](params);
    }
    switch (method) {
      case 'diff':
        return this.#diff(params);
      case 'getDatabaseVersion':
      case 'version':
        // The wasm engine reports on its adapter's database and ignores the
        // datasource parameter, which it would still insist on parsing.
        return (await this.#session.engine()).version();
      case 'createDatabase':
        return this.#createDatabase(params);
      case 'debugPanic':
        (await this.#session.engine()).debugPanic();
        throw new EnginePanic('debugPanic was called');
      default:
        throw new MethodNotFound(method);
    }
  }

  // A failing migration script surfaces from the wasm engine as a generic
  // connector error; report it as the native engine does (P3018, with the
  // migration name and the database's own error).
  async #applyMigrations(params) {
    const engine = await this.#session.engine();
    this.#session.lastScriptFailure = undefined;
    this.#session.currentMigrationName = undefined;
    try {
      return await engine.applyMigrations(params);
    } catch (error) {
      const failure = this.#session.lastScriptFailure;
      if (error?.code || !failure?.migrationName) throw error;
      const cause = failure.error?.cause ?? {};
      const dbError = failure.error?.name === 'DriverAdapterError'
        ? { ...cause, code: cause.originalCode ?? cause.code, message: cause.originalMessage ?? cause.message }
        : { message: failure.error?.message ?? String(failure.error) };
      throw migrationScriptFailure(failure.migrationName, dbError);
    }
  }

  // The native engine prints a diff through a `print` request to the CLI
  // and returns no stdout of its own; the CLI relies on that.
  async #diff(params) {
    const result = await (await this.#session.engine()).diff(params);
    if (typeof result?.stdout === 'string') {
      await this.#askClient('print', { content: result.stdout });
    }
    return { ...result, stdout: null };
  }

  async #createDatabase(params) {
    const url = params?.datasource?.url;
    const connection = url ? describeConnection(url) : this.#session.connections().connection;
    if (!connection) throw new UserFacingError('P1012', 'createDatabase needs a datasource URL.');
    return { databaseName: await createDatabase(connection) };
  }
}
