/** MovieLens genres (ML-100k spelling); the UI adds any other genre it sees in responses. */
export const MOVIELENS_GENRES = [
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
] as const

/** Known genres plus extra ones, deduplicated and sorted. */
export function mergeGenres(...lists: (readonly string[] | undefined)[]): string[] {
  const all = new Set<string>(MOVIELENS_GENRES)
  for (const l of lists) for (const g of l ?? []) if (g && g !== 'unknown' && g !== '(no genres listed)') all.add(g)
  return [...all].sort((a, b) => a.localeCompare(b))
}
