import { Size } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { formatBytes, memoryBytes, memoryProblem, renderMemory } from '../../src/constructs/quantity.ts';
import { parseQuantity } from '../../src/spec/quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['100Ki', 102_400],
    ['1.5Gi', 1_610_612_736],
    ['500M', 500_000_000],
    ['1e3', 1000],
    ['1E3', 1000],
    ['.5Ki', 512],
    ['2k', 2000],
    ['100m', 0.1],
    ['+3', 3],
    ['-1Mi', -1_048_576],
    ['1024', 1024],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it.each(['12 GB', '1GB', 'Gi', '1.2.3', '', '1Kib', '1K', '0x10'])('rejects %j', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});

describe('memoryProblem', () => {
  it('accepts whole, positive byte counts, computed exactly', () => {
    expect(memoryProblem('0.29M')).toBeUndefined();
    expect(memoryProblem('1.5Gi')).toBeUndefined();
  });

  it('explains what is wrong', () => {
    expect(memoryProblem('12 GB')).toBe('is not a Kubernetes quantity');
    expect(memoryProblem('0')).toBe('must be more than zero bytes');
    expect(memoryProblem('-1Gi')).toBe('must be more than zero bytes');
    expect(memoryProblem('100m')).toBe('is 0.1 bytes, not a whole number of bytes');
    expect(memoryProblem('1.1Gi')).toBe('is 1181116006.4 bytes, not a whole number of bytes');
  });
});

describe('renderMemory', () => {
  it('keeps strings as written and renders sizes with the largest exact binary unit', () => {
    expect(renderMemory('1.5Gi')).toBe('1.5Gi');
    expect(renderMemory(Size.mebibytes(100))).toBe('100Mi');
    expect(renderMemory(Size.gibibytes(2))).toBe('2Gi');
    expect(renderMemory(Size.gibibytes(1.5))).toBe('1536Mi');
    expect(renderMemory(Size.kibibytes(0.5))).toBe('512');
    expect(memoryBytes(Size.gibibytes(1))).toBe(1024 ** 3);
  });

  it('formats bytes for messages', () => {
    expect(formatBytes(1024 ** 3 * 2.4)).toBe('2.4Gi');
    expect(formatBytes(100)).toBe('100 bytes');
  });
});
