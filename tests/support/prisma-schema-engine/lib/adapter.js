// The driver adapter handed to the wasm engine: @prisma/adapter-pg, with
// changes that make it behave like the native engine's single connection.
//
// 1. One session. The engine takes a session-level advisory lock and expects
//    every statement to run on the connection that holds it, so the pg pool
//    is capped at one client that never idles out.
// 2. Atomic scripts. adapter-pg's executeScript splits a script on ';' and
//    runs the pieces one by one, so a migration failing half-way would leave
//    its first statements applied, and a ';' inside a string or a function
//    body breaks the script. Here the whole script goes to the server as one
//    simple-protocol query (what the native engine sends): PostgreSQL runs
//    such a multi-statement query as one implicit transaction, so a failure
//    rolls back every statement of the script.
// 3. A working shadow database. adapter-pg 7.8 connects its "shadow" pool
//    with the main connection string, which overrides the database name, so
//    the shadow work would land in the main database.
import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { quoteIdentifier, withDatabase } from './datasource.js';

const SINGLE_SESSION = { max: 1, idleTimeoutMillis: 0 };

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

// The engine's schema describer reads pg_catalog columns of the one-byte
// "char" type (relkind, contype, ...), which adapter-pg 7.8 rejects as an
// unsupported column type; pg already decoded them as strings, so they are
// declared as text before adapter-pg looks at them.
function declareCharColumnsAsText(pool) {
  const query = pool.query.bind(pool);
  pool.query = async (...args) => {
    const result = await query(...args);
    for (const field of result?.fields ?? []) {
      if (field.dataTypeID === PG_CHAR_OID) field.dataTypeID = PG_TEXT_OID;
    }
    return result;
  };
}

function connectAdapter(connection) {
  const options = connection.schema ? { schema: connection.schema } : undefined;
  return new PrismaPg({ ...connection.pgConfig, ...SINGLE_SESSION }, options).connect();
}

const NO_PARAMETERS = { args: [], argTypes: [] };

class EngineAdapter {
  #inner;
  #onScriptFailure;
  #afterDispose;

  constructor(inner, { onScriptFailure, afterDispose }) {
    this.#inner = inner;
    this.#onScriptFailure = onScriptFailure;
    this.#afterDispose = afterDispose;
    this.provider = inner.provider;
    this.adapterName = inner.adapterName;
  }

  queryRaw(query) {
    return this.#inner.queryRaw(query);
  }

  executeRaw(query) {
    return this.#inner.executeRaw(query);
  }

  startTransaction(isolationLevel) {
    return this.#inner.startTransaction(isolationLevel);
  }

  getConnectionInfo() {
    return this.#inner.getConnectionInfo();
  }

  async dispose() {
    await this.#inner.dispose();
    await this.#afterDispose?.();
  }

  async executeScript(script) {
    if (script.trim() === '') return;
    // No bind parameters: pg sends it with the simple query protocol.
    try {
      await this.#inner.executeRaw({ sql: script, ...NO_PARAMETERS });
    } catch (error) {
      this.#onScriptFailure?.(error);
      throw error;
    }
  }
}

// A short-lived plain adapter for one-off statements outside the engine.
export async function withAdapter(connection, use) {
  const adapter = await connectAdapter(connection);
  try {
    return await use(adapter);
  } finally {
    await adapter.dispose().catch(() => {});
  }
}

export class SingleSessionPgAdapterFactory {
  provider = 'postgres';
  adapterName = '@prisma/adapter-pg';
  // The error of the last failed connection attempt, kept because the wasm
  // engine only reports a generic message for it.
  connectionError = undefined;

  #connection;
  #shadowConnection;
  #onScriptFailure;
  #opened = new Set();

  constructor(connection, { shadowConnection, onScriptFailure } = {}) {
    this.#connection = connection;
    this.#shadowConnection = shadowConnection;
    this.#onScriptFailure = onScriptFailure;
  }

  connect() {
    return this.#open(this.#connection);
  }

  // An operator-given shadow database is used as is; otherwise a throwaway
  // database is created next to the main one and dropped after use.
  async connectToShadowDb() {
    if (this.#shadowConnection) return this.#open(this.#shadowConnection);
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    const runOnMain = (sql) => withAdapter(this.#connection, (adapter) => adapter.executeRaw({ sql, ...NO_PARAMETERS }));
    await runOnMain(`CREATE DATABASE ${quoteIdentifier(name)}`);
    try {
      return await this.#open(withDatabase(this.#connection, name), () => runOnMain(`DROP DATABASE ${quoteIdentifier(name)}`));
    } catch (error) {
      await runOnMain(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`).catch(() => {});
      throw error;
    }
  }

  async #open(connection, afterDispose) {
    const inner = await connectAdapter(connection);
    try {
      // pg connects lazily; fail here, with the driver's own error, rather
      // than inside the engine's first query.
      await inner.executeRaw({ sql: 'SELECT 1', ...NO_PARAMETERS });
    } catch (error) {
      this.connectionError = error;
      await inner.dispose().catch(() => {});
      throw error;
    }
    declareCharColumnsAsText(inner.underlyingDriver());
    const adapter = new EngineAdapter(inner, {
      onScriptFailure: this.#onScriptFailure,
      afterDispose: async () => {
        this.#opened.delete(adapter);
        await afterDispose?.();
      },
    });
    this.#opened.add(adapter);
    return adapter;
  }

  async disposeAll() {
    await Promise.allSettled([...this.#opened].map((adapter) => adapter.dispose()));
  }
}
