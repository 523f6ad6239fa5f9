// The Argo CD health scripts in gopher-lua (the VM Argo CD embeds) on the cases the apiserver suite
// does not reach: no status yet, an older generation, a model scaled to zero, Seldon Core 2's own
// Server condition, and text that needs escaping. The statuses the scheduler writes on a real
// apiserver are checked in control-plane-kubernetes.test.ts.
import { expect, it } from 'vitest';
import { healthScript } from '../../src/cli/argocd-health.ts';
import { runHealthScript } from './harness/index.ts';
import { describeE2E } from './harness/toolchain.ts';

const conditions = healthScript('conditions.lua');
const obj = (status: object | undefined, generation = 1) => ({
  apiVersion: 'mlops.seldon.io/v1alpha1',
  kind: 'Model',
  metadata: { name: 'm', generation },
  ...(status ? { status } : {}),
});

describeE2E('Argo CD health scripts in gopher-lua', ['go'], () => {
  it('no status, or status of an older generation: Progressing', async () => {
    expect(await runHealthScript(conditions, obj(undefined))).toEqual({
      status: 'Progressing',
      message: 'Waiting for the scheduler to report status',
    });
    const old = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] };
    expect(await runHealthScript(conditions, obj(old, 2))).toEqual({
      status: 'Progressing',
      message: 'Waiting for the scheduler to observe generation 2',
    });
  });

  it('a model scaled to zero is Healthy; a Server whose pods are not ready (Seldon) is Progressing', async () => {
    const scaled = { conditions: [{ type: 'Ready', status: 'False', reason: 'ModelScaledDown' }] };
    expect((await runHealthScript(conditions, obj(scaled))).status).toBe('Healthy');
    const seldonServer = {
      conditions: [
        { type: 'Ready', status: 'False' },
        { type: 'StatefulSetOrDeploymentReady', status: 'False', reason: 'StatefulSetNotReady' },
      ],
    };
    expect((await runHealthScript(conditions, obj(seldonServer))).status).toBe('Progressing');
  });

  it('keeps messages intact: quotes, backslashes, new lines and non-ASCII text', async () => {
    const message = 'step "a": model "a" is ModelFailed (C:\\models\\a\nnot found — ünïcode)';
    const failed = {
      conditions: [{ type: 'Ready', status: 'False', reason: 'ModelFailed', message }],
    };
    expect(await runHealthScript(conditions, obj(failed))).toEqual({
      status: 'Degraded',
      message: `Ready: ${message}`,
    });
  });
});
