// One wasm SchemaEngine over one database session, created on first use.
import { readFile } from 'node:fs/promises';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SingleSessionPgAdapterFactory } from './adapter.js';
import { loadWasmSchemaEngine } from './wasm-engine.js';
import { UserFacingError, connectionFailure } from './user-facing-errors.js';

const CLOSE_TIMEOUT_MS = 2000;

async function readDatamodels(paths) {
  if (paths.length === 0) return undefined;
  return Promise.all(paths.map(async (path) => [path, await readFile(path, 'utf8')]));
}

export class EngineSession {
  #describeConnections;
  #datamodelPaths;
  #logger;
  #engine;
  #factory;

  // What the engine was doing when a script failed; read by the RPC layer to
  // report a failed migration the way the native engine does (P3018).
  currentMigrationName = undefined;
  lastScriptFailure = undefined;

  constructor({ describeConnections, datamodelPaths, logger }) {
    this.#describeConnections = describeConnections;
    this.#datamodelPaths = datamodelPaths;
    this.#logger = logger;
  }

  // { connection, shadowConnection } from the datasource argument; throws
  // the user-facing error of an unusable URL.
  connections() {
    return this.#describeConnections();
  }

  #onWasmLog = (record) => {
    this.#logger.forward(record);
    try {
      const { fields, span } = JSON.parse(record);
      const name = span?.migration_name ?? /^Applying `(.+)`$/.exec(fields?.message ?? '')?.[1];
      if (name) this.currentMigrationName = name;
    } catch {
      // Not every record is JSON; those carry no migration name.
    }
  };

  #onScriptFailure = (error) => {
    this.lastScriptFailure = { error, migrationName: this.currentMigrationName };
  };

  async engine() {
    this.#engine ??= this.#create().catch((error) => {
      this.#engine = undefined;
      throw error;
    });
    return this.#engine;
  }

  async #create() {
    const { connection, shadowConnection } = this.connections();
    if (!connection) {
      throw new UserFacingError(
        'P1012',
        'This schema engine stand-in needs a PostgreSQL database for every command: no datasource URL was given (set `datasource.url` in prisma.config).',
      );
    }
    const wasm = await loadWasmSchemaEngine();
    const datamodels = await readDatamodels(this.#datamodelPaths);
    await this.#factory?.disposeAll();
    const factory = new SingleSessionPgAdapterFactory(connection, {
      shadowConnection,
      onScriptFailure: this.#onScriptFailure,
    });
    this.#factory = factory;
    try {
      return await wasm.SchemaEngine.new({ datamodels }, this.#onWasmLog, bindMigrationAwareSqlAdapterFactory(factory));
    } catch (error) {
      if (factory.connectionError) throw connectionFailure(factory.connectionError, connection.target);
      throw error;
    }
  }

  // Best effort: the process exits right after, which closes connections anyway.
  async close() {
    const engine = await this.#engine?.catch(() => undefined);
    this.#engine = undefined;
    try {
      engine?.free();
    } catch {
      // A call that crashed inside the engine can leave it borrowed.
    }
    const disposed = this.#factory?.disposeAll();
    await Promise.race([disposed, new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]);
  }
}
