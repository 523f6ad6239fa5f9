import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, pinnedVersion, provisioned } from './cache.ts';

/** What an Argo CD health script returns. */
export interface Health {
  status: string;
  message: string;
}

/** The provisioned `glua` (gopher-lua, the VM Argo CD embeds). */
export function gluaBinary(): string {
  return join(provisioned('lua', cachePath('gopher-lua', `v${pinnedVersion('GOPHER_LUA_VERSION')}`)), 'glua');
}

/** A JSON value as a Lua table constructor, as Argo CD hands an object to a script. */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  const fields = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `[${luaString(k)}] = ${luaLiteral(v)}`,
  );
  return `{${fields.join(', ')}}`;
}

function luaString(s: string): string {
  // Decimal escapes for every byte outside printable ASCII, so any text survives the round trip.
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte >= 0x20 && byte < 0x7f && c !== '"' && c !== '\\' ? c : `\\${byte}`;
  }
  return `${out}"`;
}

/**
 * Runs an Argo CD health script against `obj` in glua: the script runs as a function body with
 * the global `obj` set, as Argo CD runs it, and its `hs` table is printed back.
 */
export async function runHealthScript(script: string, obj: unknown): Promise<Health> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-lua-'));
  const file = join(dir, 'check.lua');
  writeFileSync(
    file,
    `obj = ${luaLiteral(obj)}\nlocal hs = (function()\n${script}\nend)()\n` +
      'io.write(tostring(hs.status), "\\n", tostring(hs.message))\n',
  );
  try {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(gluaBinary(), [file], { timeout: 10_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`glua failed: ${stderr || err.message}`)) : resolve(stdout),
      ),
    );
    const nl = out.indexOf('\n');
    return { status: out.slice(0, nl), message: out.slice(nl + 1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
