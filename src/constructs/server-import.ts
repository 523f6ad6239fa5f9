/** The inverses of `Server`'s and `ServerConfig`'s renders: the props that synthesize a given spec. */
import type { ServerConfigSpec, ServerSpec } from '../spec/types.ts';
import {
  enumMember,
  literal,
  member,
  optional,
  type Props,
  type PropValue,
  props,
  ref,
} from './prop-values.ts';

export function serverConfigPropsFromSpec(spec: ServerConfigSpec): Props {
  return props([
    ['podSpec', literal(spec.podSpec)],
    ['volumeClaimTemplates', optional(spec.volumeClaimTemplates)],
  ]);
}

export function serverPropsFromSpec(spec: ServerSpec): Props {
  // Keys in the spec's order, so a generated app reads like the manifest it came from.
  return props(
    (Object.keys(spec) as Array<keyof ServerSpec>).map((key): [string, PropValue | undefined] => {
      switch (key) {
        case 'serverConfig':
          return [
            'serverConfig',
            ref('ServerConfig', spec.serverConfig, installedServerConfig(spec.serverConfig)),
          ];
        case 'statefulSetPersistentVolumeClaimRetentionPolicy': {
          const policy = spec.statefulSetPersistentVolumeClaimRetentionPolicy;
          return [
            'pvcRetention',
            props([
              ['whenDeleted', enumMember('PvcRetentionPolicy', policy?.whenDeleted)],
              ['whenScaled', enumMember('PvcRetentionPolicy', policy?.whenScaled)],
            ]),
          ];
        }
        case 'deploymentStrategy':
          return ['deploymentStrategy', deploymentStrategy(spec.deploymentStrategy)];
        default:
          return [key, literal(spec[key])];
      }
    }),
  );
}

/** A configuration the app does not declare: one Seldon ships, or one installed by name. */
function installedServerConfig(name: string): PropValue {
  if (name === 'mlserver') return member('ServerConfig', 'MLSERVER');
  if (name === 'triton') return member('ServerConfig', 'TRITON');
  return member('ServerConfig', 'fromName', [literal(name)]);
}

function deploymentStrategy(value: Record<string, unknown> | undefined): Props {
  const strategy = value as
    | { type?: string; rollingUpdate?: { maxSurge?: unknown; maxUnavailable?: unknown } }
    | undefined;
  return props([
    ['type', literal(strategy?.type ?? '')],
    ['maxSurge', optional(strategy?.rollingUpdate?.maxSurge)],
    ['maxUnavailable', optional(strategy?.rollingUpdate?.maxUnavailable)],
  ]);
}
