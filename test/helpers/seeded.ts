/** A small seeded random source, so that a failing run of a randomised test can be replayed (S3PULL_TEST_SEED). */
export const SEED = Number(process.env.S3PULL_TEST_SEED ?? Date.now() % 1_000_000);

export function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
