const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
// Fields every runtime log line carries, already said by the prefix or the line itself.
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component', 'server', 'replica']);

/**
 * One line of a component's output for the terminal: `name | LEVEL message key=value…` for the
 * runtime's pino JSON lines, the line itself for anything else (e.g. MLServer's own logs).
 */
export function formatLogLine(name: string, width: number, line: string): string {
  const prefix = `${name.padEnd(width)} | `;
  if (!line.startsWith('{')) return prefix + line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return prefix + line;
  }
  if (typeof entry.msg !== 'string' || typeof entry.level !== 'number') return prefix + line;
  const level = (LEVELS[entry.level] ?? String(entry.level)).padEnd(5);
  const extra = Object.entries(entry)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${prefix}${level} ${entry.msg}${extra.length ? ` ${extra.join(' ')}` : ''}`;
}

/** Splits a stream into lines, buffering a partial last line until its end arrives. */
export class LineSplitter {
  private rest = '';

  push(chunk: string, emit: (line: string) => void): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) emit(p.replace(/\r$/, ''));
  }

  flush(emit: (line: string) => void): void {
    if (this.rest) emit(this.rest);
    this.rest = '';
  }
}
