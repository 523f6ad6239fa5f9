import { describe, expect, it } from 'vitest';
import {
  directionOf,
  parsePipelineRef,
  parseStepRef,
  pipelineRefForm,
  referenceHead,
  renderPipelineRef,
  renderStepRef,
  wellFormedPipelineRef,
  wellFormedStepRef,
} from '../../src/spec/references.ts';

describe('step references', () => {
  it.each([
    ['a', { name: 'a' }],
    ['a.outputs', { name: 'a', direction: 'outputs' }],
    ['a.inputs.t', { name: 'a', direction: 'inputs', tensor: 't' }],
  ])('%s parses and renders back', (text, ref) => {
    expect(parseStepRef(text)).toEqual(ref);
    expect(renderStepRef(ref as never)).toBe(text);
  });

  it('refuses a second part that is not a direction', () => {
    expect(parseStepRef('a.step')).toBeUndefined();
    expect(parseStepRef('a.')).toBeUndefined();
  });

  it('keeps dots after the direction in the tensor, which only well-formed parsing refuses', () => {
    expect(parseStepRef('a.outputs.x.y')).toEqual({ name: 'a', direction: 'outputs', tensor: 'x.y' });
    expect(wellFormedStepRef('a.outputs.x.y')).toBeUndefined();
    expect(wellFormedStepRef('a.outputs.')).toBeUndefined();
    expect(wellFormedStepRef('a b.outputs')).toBeUndefined();
    expect(wellFormedStepRef('a.outputs.t')).toEqual({ name: 'a', direction: 'outputs', tensor: 't' });
  });

  it("reads a bare name as a step's outputs, the pipeline's own name as its inputs", () => {
    expect(directionOf({ name: 'a' }, 'p')).toBe('outputs');
    expect(directionOf({ name: 'p' }, 'p')).toBe('inputs');
    expect(directionOf({ name: 'p', direction: 'outputs' }, 'p')).toBe('outputs');
  });
});

describe('pipeline references', () => {
  it.each([
    ['p', { pipeline: 'p' }],
    ['p.inputs.t', { pipeline: 'p', direction: 'inputs', tensor: 't' }],
    ['p.step.s', { pipeline: 'p', step: 's' }],
    ['p.step.s.outputs', { pipeline: 'p', step: 's', direction: 'outputs' }],
    ['p.step.s.inputs.t', { pipeline: 'p', step: 's', direction: 'inputs', tensor: 't' }],
    // A step may be called like a direction.
    ['p.step.inputs.outputs', { pipeline: 'p', step: 'inputs', direction: 'outputs' }],
  ])('%s parses and renders back', (text, ref) => {
    expect(parsePipelineRef(text)).toEqual(ref);
    expect(renderPipelineRef(ref as never)).toBe(text);
  });

  it('refuses a missing step or direction, naming the form meant', () => {
    expect(parsePipelineRef('p.step')).toBeUndefined();
    expect(parsePipelineRef('p.step.s.t')).toBeUndefined();
    expect(pipelineRefForm('p.step.s.t')).toContain('.step.<step>.');
    expect(pipelineRefForm('p.foo')).not.toContain('step');
    expect(wellFormedPipelineRef('p.step..outputs')).toBeUndefined();
  });

  it('takes the head of any reference, valid or not', () => {
    expect(referenceHead('p.step.s')).toBe('p');
    expect(referenceHead('x.nonsense.more')).toBe('x');
    expect(referenceHead('plain')).toBe('plain');
  });
});
