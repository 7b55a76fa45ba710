/** The options of the object path: rate, parallelism and attempts. */
import { z } from 'zod';

export const pipelineShape = {
  eps_throttle: z.number().int().min(0, 'must be 0 (no limit) or more').default(5000),
  concurrency: z.number().int().min(1).max(64).default(4),
  max_attempts: z.number().int().min(1).default(5),
};

export type PipelineOptions = z.output<z.ZodObject<typeof pipelineShape>>;
