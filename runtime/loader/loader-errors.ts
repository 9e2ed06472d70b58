/** The actor modules cannot be loaded as given; `message` is the one line the CLI prints. */
export class TypeScriptLoaderError extends Error {
  override name = 'TypeScriptLoaderError';
  readonly code = 'TROUPE_NO_TYPESCRIPT_LOADER';
}
