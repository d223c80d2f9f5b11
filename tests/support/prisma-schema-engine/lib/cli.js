// Stand-in for Prisma's native schema-engine binary (see README.md).
import { main } from './main.js';

let exitCode;
try {
  exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(
    `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'ERROR', fields: { message: String(error?.stack ?? error) }, target: 'schema_engine' })}\n`,
  );
  exitCode = 1;
}
process.exit(exitCode);
