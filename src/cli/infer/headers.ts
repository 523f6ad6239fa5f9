const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `--header k=v` values → lower-cased header names; a name repeated keeps the last value. */
export function parseHeaderFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    const name = eq < 0 ? '' : flag.slice(0, eq).trim();
    if (!TOKEN.test(name)) {
      throw new Error(
        `--header "${flag}": expected NAME=VALUE with a header name, e.g. --header x-team=risk`,
      );
    }
    out[name.toLowerCase()] = flag.slice(eq + 1);
  }
  return out;
}
