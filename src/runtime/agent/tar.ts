// Minimal reader for (optionally gzipped) POSIX tar archives: enough to unpack a model folder
// fetched over HTTP without shelling out. Regular files and directories only; links are refused.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';

export function extractTar(archive: Buffer, dest: string): number {
  const data = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  let offset = 0;
  let files = 0;
  let longName: string | undefined;
  while (offset + 512 <= data.length) {
    const header = data.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    const prefix = field(345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const body = data.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'x' || type === 'g') continue; // pax headers: names fit the ustar fields here
    name = normalize(name).replace(/^(\.\/)+/, '');
    if (name === '.' || name === '') continue;
    if (name.startsWith('..') || name.startsWith(sep))
      throw new Error(`archive entry ${name} escapes the folder`);
    const target = join(dest, name);
    if (type === '5') mkdirSync(target, { recursive: true });
    else if (type === '0' || type === '7') {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, body);
      files++;
    } else throw new Error(`archive entry ${name} has unsupported type ${type} (only files and folders)`);
  }
  return files;
}
