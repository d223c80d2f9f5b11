// Command-line options of the ops scripts (pure, no database).

/**
 * `--flag`, `--key=value` and `--key value` (the latter only for keys listed in
 * valueKeys). Unknown options are an error so a typo never runs a real apply.
 */
export function parseArgs(argv, { flags = [], valueKeys = [] } = {}) {
  const options = {};
  const positional = [];
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const body = arg.slice(2);
    const equals = body.indexOf("=");
    const key = equals === -1 ? body : body.slice(0, equals);
    if (valueKeys.includes(key)) {
      if (equals !== -1) options[key] = body.slice(equals + 1);
      else if (index + 1 < argv.length && !argv[index + 1].startsWith("--")) options[key] = argv[++index];
      else throw new UsageError(`--${key} needs a value.`);
    } else if (flags.includes(key)) {
      if (equals === -1) options[key] = true;
      else {
        const value = body.slice(equals + 1).toLowerCase();
        if (!["true", "false", "1", "0", "yes", "no"].includes(value)) throw new UsageError(`--${key} takes no value.`);
        options[key] = ["true", "1", "yes"].includes(value);
      }
    } else {
      throw new UsageError(`Unknown option --${key}.`);
    }
  }
  return { options, positional };
}

export class UsageError extends Error {}
