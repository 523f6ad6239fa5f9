export * from './convert.ts';
export * from './datatypes.ts';
export * from './errors.ts';
export * from './grpc-wire.ts';
export * from './json-types.ts';
export * from './messages.ts';
export * from './validate.ts';
