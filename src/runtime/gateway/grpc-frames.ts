/** gRPC length-prefixed message framing (1 byte compressed flag + 4 bytes big-endian length). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** The first message of a framed body, or undefined when the body is truncated or compressed. */
export function firstMessage(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0) return undefined;
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) return undefined;
  return body.subarray(5, 5 + len);
}

/** Appends field 1 (string) to a protobuf message: the last occurrence of a field wins on decode. */
export function overrideNameField(message: Uint8Array, name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  const lenBytes: number[] = [];
  let n = nameBytes.length;
  while (n > 0x7f) {
    lenBytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  lenBytes.push(n);
  return Buffer.concat([message, Buffer.from([0x0a, ...lenBytes]), nameBytes]);
}
