import { describe, expect, it } from 'vitest';
import {
  firstMessage,
  frameMessage,
  onlyMessage,
  readNameField,
} from '../../../src/runtime/oip/grpc-wire.ts';

describe('gRPC wire framing', () => {
  const a = Buffer.from([0x0a, 1, 0x61]);
  const b = Buffer.from([0x0a, 1, 0x62]);

  it('frames a message and reads it back', () => {
    expect(onlyMessage(frameMessage(a))).toEqual(a);
    expect(firstMessage(frameMessage(a))).toEqual(a);
  });

  it('tells a single message from a stream of several', () => {
    const two = Buffer.concat([frameMessage(a), frameMessage(b)]);
    expect(firstMessage(two)).toEqual(a);
    expect(onlyMessage(two)).toBeUndefined();
  });

  it('refuses truncated and compressed bodies', () => {
    expect(firstMessage(frameMessage(a).subarray(0, 6))).toBeUndefined();
    const compressed = frameMessage(a);
    compressed[0] = 1;
    expect(firstMessage(compressed)).toBeUndefined();
  });

  it('reads the name a later field 1 sets, as a protobuf decoder does', () => {
    expect(readNameField(Buffer.concat([a, b]))).toBe('b');
  });
});
