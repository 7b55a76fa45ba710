import { Readable } from 'node:stream';

/** The first bytes of `input` as text (and as bytes), and the whole of it again as a stream. */
export async function peek(input: Readable, bytes: number): Promise<{ head: string; headBytes: Buffer; ended: boolean; rest: Readable }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const taken: (Buffer | string)[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    taken.push(next.value);
    length += next.value.length;
  }
  // Most often the head is the first chunk: used as it is, not copied.
  const only = taken.length === 1 ? taken[0] : undefined;
  const headBytes = Buffer.isBuffer(only) ? only : Buffer.concat(taken.map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk)));
  const head = headBytes.toString('utf8');
  const rest = Readable.from(
    (async function* () {
      try {
        yield* taken;
        if (ended) return;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      } finally {
        // A consumer that stops early (a bad object, a failed output, a shutdown) stops the bytes
        // below too; without waiting for them, so that its error reaches the object at once.
        if (!ended) void Promise.resolve(iterator.return?.()).catch(() => {});
      }
    })(),
    { objectMode: false },
  );
  return { head, headBytes, ended, rest };
}
