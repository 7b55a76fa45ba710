/**
 * Where a poll starts listing a partition, and whether it may move the marker. A different
 * listing strategy is a different implementation, not a mode check in every step.
 */
export interface ListingStrategy {
  readonly name: 'marker' | 'full';
  startAfter(settledKey: string): string | undefined;
  readonly movesMarker: boolean;
}

/** Lists from the settled key: the steady-state cost is the objects of the late window. */
export const markerListing: ListingStrategy = {
  name: 'marker',
  startAfter: (settledKey) => settledKey || undefined,
  movesMarker: true,
};

/** Lists the whole prefix every poll, for buckets whose keys are not ordered by time. */
export const fullListing: ListingStrategy = {
  name: 'full',
  startAfter: () => undefined,
  movesMarker: false,
};

export function listingFor(name: 'marker' | 'full'): ListingStrategy {
  return name === 'full' ? fullListing : markerListing;
}
