// Keeps connection secrets out of everything the stand-in prints.

const MIN_SECRET_LENGTH = 4;
const PLACEHOLDER = '<REDACTED>';

export function createRedactor(secrets) {
  const needles = [...new Set(secrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))]
    .sort((a, b) => b.length - a.length);
  const redactString = (text) => needles.reduce((out, needle) => out.split(needle).join(PLACEHOLDER), text);
  const redact = (value) => {
    if (typeof value === 'string') return redactString(value);
    if (Array.isArray(value)) return value.map(redact);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, redact(inner)]));
    }
    return value;
  };
  return redact;
}

export function urlSecrets(url) {
  if (typeof url !== 'string' || url === '') return [];
  const secrets = [url];
  try {
    const { password } = new URL(url);
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // An unparsable URL is reported elsewhere; the raw string is still hidden.
  }
  return secrets;
}
