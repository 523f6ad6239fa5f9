/** Emits our CustomResourceDefinitions (their schemas live in spec/crd-schemas) into a chart. */
import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { customResourceDefinitions } from '../spec/crd-schemas.ts';

/** Adds the CustomResourceDefinitions of the five kinds to a chart. */
export class MlopsCrds extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    for (const crd of customResourceDefinitions()) {
      const { apiVersion, kind, metadata, spec } = crd as {
        apiVersion: string;
        kind: string;
        metadata: { name: string; annotations: Record<string, string> };
        spec: unknown;
      };
      new ApiObject(this, metadata.name, { apiVersion, kind, metadata, spec });
    }
  }
}
