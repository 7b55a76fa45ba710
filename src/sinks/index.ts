import type { OutputConfig } from '../config/schema.js';
import type { Sink } from './types.js';
import { FileSink } from './file.js';
import { StdoutSink } from './stdout.js';

export function createSink(output: OutputConfig): Sink {
  switch (output.type) {
    case 'stdout':
      return new StdoutSink();
    case 'file':
      return new FileSink(output.path);
  }
}

export type { Sink } from './types.js';
