import { describe, expect, it } from 'vitest';
import { metricsLines } from '../../src/cli/dev/metrics-urls.ts';

describe('mlops dev metrics URLs', () => {
  it('prints one aligned line per component, in the endpoint list', () => {
    expect(
      metricsLines([
        { component: 'scheduler', url: 'http://127.0.0.1:1/metrics' },
        { component: 'agent/mlserver-0', url: 'http://127.0.0.1:2/metrics' },
      ]),
    ).toEqual([
      '  metrics    scheduler         http://127.0.0.1:1/metrics',
      '  metrics    agent/mlserver-0  http://127.0.0.1:2/metrics',
    ]);
  });
});
