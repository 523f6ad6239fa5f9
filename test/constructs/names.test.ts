import { describe, expect, it } from 'vitest';
import { dnsLabelProblem, dnsSubdomainProblem, suggestDnsLabel } from '../../src/constructs/names.ts';

describe('names', () => {
  it('accepts DNS-1123 labels and says what is wrong with others', () => {
    expect(dnsLabelProblem('iris-2')).toBeUndefined();
    expect(dnsLabelProblem('mlserver.name')).toBe('contains a dot');
    expect(dnsLabelProblem('Iris')).toMatch(/lower-case letters/);
    expect(dnsLabelProblem('-iris')).toMatch(/start and end/);
    expect(dnsLabelProblem('a'.repeat(64))).toBe('is 64 characters long (at most 63)');
    expect(dnsLabelProblem('')).toBe('is empty');
  });

  it('allows dots in subdomains (Secret names)', () => {
    expect(dnsSubdomainProblem('s3.credentials')).toBeUndefined();
    expect(dnsSubdomainProblem('S3')).toMatch(/lower-case/);
  });

  it('suggests a valid label', () => {
    expect(suggestDnsLabel('My_Model.v2')).toBe('my-model-v2');
    expect(dnsLabelProblem(suggestDnsLabel('__'))).toBeUndefined();
  });
});
