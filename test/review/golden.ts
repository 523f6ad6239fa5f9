// Golden files: `UPDATE_GOLDEN=1 npx vitest run test/review` rewrites them; review the git diff.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const fixtures = fileURLToPath(new URL('../fixtures/review/', import.meta.url));

export function expectGolden(name: string, actual: string): void {
  const file = join(fixtures, 'golden', name);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    if (!process.env.UPDATE_GOLDEN)
      throw new Error(`golden file ${name} is missing; run with UPDATE_GOLDEN=1`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
