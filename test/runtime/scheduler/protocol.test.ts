import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { RouteUpdate } from '../../../src/runtime/protocol/control.ts';
import {
  CONTROL_PROTO_PATH,
  controlPackage,
  LOADER_OPTIONS,
} from '../../../src/runtime/protocol/control-proto.ts';
import { RouteTable } from '../../../src/runtime/protocol/route-table.ts';

function update(partial: Partial<RouteUpdate>): RouteUpdate {
  return {
    revision: 1,
    full: false,
    models: [],
    removedModels: [],
    experiments: [],
    removedExperiments: [],
    pipelines: [],
    removedPipelines: [],
    ...partial,
  };
}

describe('control protocol', () => {
  it('exposes the agent and route services', () => {
    const pkg = controlPackage();
    expect(Object.keys(pkg.AgentService.service).sort()).toEqual([
      'AgentDrain',
      'AgentEvent',
      'ModelScalingTrigger',
      'Subscribe',
    ]);
    expect(Object.keys(pkg.RouteService.service)).toEqual(['SubscribeRoutes']);
  });

  it('round-trips a route update with 64-bit fields as numbers', () => {
    const def = protoLoader.loadSync(CONTROL_PROTO_PATH, LOADER_OPTIONS);
    const method = def['mlops.control.v1.RouteService'] as protoLoader.ServiceDefinition;
    const sub = method.SubscribeRoutes;
    const msg = update({
      revision: 2 ** 40,
      full: true,
      models: [
        {
          name: 'iris',
          namespace: 'ns',
          versions: [
            {
              version: 3,
              internalName: 'iris_3',
              endpoints: [
                { serverName: 'mlserver', replicaIdx: 1, host: 'h', httpPort: 9001, grpcPort: 9501 },
              ],
            },
          ],
        },
      ],
    });
    const decoded = sub.responseDeserialize(sub.responseSerialize(msg)) as RouteUpdate;
    expect(decoded.revision).toBe(2 ** 40);
    expect(decoded.models[0].versions[0].endpoints[0]).toEqual(msg.models[0].versions[0].endpoints[0]);
    expect(decoded.removedModels).toEqual([]);
  });

  it('uses the field numbers the design fixes', () => {
    const root = protobuf.loadSync(CONTROL_PROTO_PATH);
    const sub = root.lookupType('mlops.control.v1.AgentSubscribeRequest');
    expect(sub.fields.serverName.id).toBe(1);
    expect(sub.fields.loadedModels.id).toBe(4);
  });
});

describe('RouteTable', () => {
  it('applies snapshots and increments', () => {
    const t = new RouteTable();
    const iris = { name: 'iris', namespace: '', versions: [] };
    const wine = { name: 'wine', namespace: '', versions: [] };
    t.apply(update({ full: true, models: [iris, wine] }));
    expect([...t.models.keys()]).toEqual(['iris', 'wine']);
    t.apply(update({ revision: 2, removedModels: ['iris'] }));
    expect([...t.models.keys()]).toEqual(['wine']);
    t.apply(update({ revision: 3, full: true, models: [iris, wine] }));
    expect([...t.models.keys()]).toEqual(['iris', 'wine']);
    expect(t.revision).toBe(3);
  });
});
