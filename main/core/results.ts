/** What an upload ended with, as every layer records and shows it. */
export interface UploadResult {
  /** The provider's id of the new media, or null when the provider never said it (see `details.warning`). */
  remoteId: string | null;
  url: string | null;
  /** Provider-specific facts worth showing (media state, thumbnails, validations, warnings...). */
  details: Record<string, unknown>;
}
