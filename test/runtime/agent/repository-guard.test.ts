import { describe, expect, it } from 'vitest';
import { isRepositoryMethod, isRepositoryPath } from '../../../src/runtime/agent/repository-guard.ts';

describe('repository guard', () => {
  it('recognizes the repository API however the path is spelled', () => {
    for (const p of [
      '/v2/repository/index',
      '/v2/repository/models/iris_1/load',
      '/v2/repository/models/iris_1/unload?x=1',
      '//v2//repository/index',
      '/v2/%72epository/index',
      '/V2/Repository/index',
      '/v2/models/iris/../../repository/index',
      '/v2/models/iris/%2e%2e/%2e%2e/repository/index',
    ])
      expect([p, isRepositoryPath(p)]).toEqual([p, true]);
    for (const p of ['/v2/models/iris/infer', '/v2/health/ready', '/v2', '/v2/models/repository/infer'])
      expect([p, isRepositoryPath(p)]).toEqual([p, false]);
  });

  it('recognizes the repository gRPC methods, also of MLServer’s own service', () => {
    expect(isRepositoryMethod('/inference.GRPCInferenceService/RepositoryIndex')).toBe(true);
    expect(isRepositoryMethod('/inference.GRPCInferenceService/RepositoryModelUnload')).toBe(true);
    expect(isRepositoryMethod('/inference.model_repository.ModelRepositoryService/RepositoryModelLoad')).toBe(
      true,
    );
    expect(isRepositoryMethod('/inference.GRPCInferenceService/ModelInfer')).toBe(false);
  });
});
