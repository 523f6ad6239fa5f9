export * from './spec/types.ts';
