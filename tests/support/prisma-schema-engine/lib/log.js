// JSON log lines on stderr, shaped like the native engine's tracing output
// ({timestamp, level, fields: {message, ...}, target}). The Prisma CLI parses
// them: it keeps fields.message and treats ERROR lines as the failure reason.
import { appendFileSync } from 'node:fs';
import { format } from 'node:util';

export const DEFAULT_TARGET = 'schema_engine';

export function createLogger({ redact, stream = process.stderr, trace = () => {} }) {
  const write = (record) => {
    const line = JSON.stringify(redact(record));
    trace('stderr', line);
    stream.write(`${line}\n`);
  };
  const emit = (level, message, fields = {}, target = DEFAULT_TARGET) => {
    write({ timestamp: new Date().toISOString(), level, fields: { message, ...fields }, target });
  };
  return {
    info: (message, fields, target) => emit('INFO', message, fields, target),
    warn: (message, fields, target) => emit('WARN', message, fields, target),
    error: (message, fields, target) => emit('ERROR', message, fields, target),
    // The wasm engine hands over ready-made JSON records, one per call.
    forward(rawRecord) {
      for (const line of String(rawRecord).split('\n')) {
        if (line.trim() === '') continue;
        let record;
        try {
          record = JSON.parse(line);
        } catch {
          emit('INFO', line);
          continue;
        }
        write({ timestamp: new Date().toISOString(), ...record });
      }
    },
  };
}

// Anything else that would print (pg notices, Node warnings) becomes a log
// line too: stdout carries only JSON-RPC, and the CLI parses stderr as JSON.
export function captureStrayOutput(logger) {
  console.log = (...args) => logger.info(format(...args));
  console.info = console.log;
  console.debug = console.log;
  console.warn = (...args) => logger.warn(format(...args));
  console.error = (...args) => logger.error(format(...args));
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn(`${warning.name}: ${warning.message}`));
}

export function createTracer(path, redact) {
  if (!path) return () => {};
  return (channel, text) => {
    const record = { at: new Date().toISOString(), pid: process.pid, channel, text: redact(String(text)) };
    try {
      appendFileSync(path, `${JSON.stringify(record)}\n`);
    } catch {
      // Tracing is a debugging aid; it must never break the engine.
    }
  };
}
