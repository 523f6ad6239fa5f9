/**
 * Construct props recovered from a rendered spec (each construct's inverse of its render), as a
 * small tree that a code generator prints. References stay symbolic: the generator decides what an
 * object is called in code.
 */
import type { MlopsKind } from '../spec/types.ts';

export type PropValue =
  /** A JSON value, written as is. */
  | { readonly t: 'literal'; readonly value: unknown }
  /** An object literal, keys in this order. */
  | { readonly t: 'props'; readonly entries: ReadonlyArray<readonly [string, PropValue]> }
  | { readonly t: 'list'; readonly items: readonly PropValue[] }
  /** Another Seldon object; `otherwise` stands in when the app does not declare one of that name. */
  | { readonly t: 'ref'; readonly kind: MlopsKind; readonly name: string; readonly otherwise?: PropValue }
  /** A static member of an exported class or enum (`JoinType.INNER`), called when `args` are given. */
  | {
      readonly t: 'static';
      readonly type: string;
      readonly member: string;
      readonly args?: readonly PropValue[];
    }
  /** A method called on a value, e.g. `model.outputs('t')` or `pipeline.step(model)`. */
  | {
      readonly t: 'method';
      readonly target: PropValue;
      readonly method: string;
      readonly args: readonly PropValue[];
    };

/** Props of one construct, in the order they are written. */
export type Props = Extract<PropValue, { t: 'props' }>;

export const literal = (value: unknown): PropValue => ({ t: 'literal', value });
export const list = (items: readonly PropValue[]): PropValue => ({ t: 'list', items });
export const ref = (kind: MlopsKind, name: string, otherwise?: PropValue): PropValue =>
  otherwise ? { t: 'ref', kind, name, otherwise } : { t: 'ref', kind, name };
export const member = (type: string, name: string, args?: readonly PropValue[]): PropValue =>
  args ? { t: 'static', type, member: name, args } : { t: 'static', type, member: name };
export const method = (target: PropValue, name: string, args: readonly PropValue[] = []): PropValue => ({
  t: 'method',
  target,
  method: name,
  args,
});

/** An object literal without the entries whose value is undefined. */
export function props(entries: ReadonlyArray<readonly [string, PropValue | undefined]>): Props {
  return { t: 'props', entries: entries.filter((e): e is [string, PropValue] => e[1] !== undefined) };
}

/** A literal, or undefined when the value is. */
export const optional = (value: unknown): PropValue | undefined =>
  value === undefined ? undefined : literal(value);

/** An enum member (`JoinType.INNER`) for a spec value (`inner`), or undefined when unset. */
export const enumMember = (type: string, value: string | undefined): PropValue | undefined =>
  value === undefined ? undefined : member(type, value.toUpperCase());
