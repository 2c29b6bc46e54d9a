import type { Api } from "grammy";

/** Telegram lets bots download files up to 20 MB (getFile refuses larger ones). */
export const BOT_DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024;
const DEFAULT_API_ROOT = "https://api.telegram.org";

/** Why a file could not be fetched, in a sentence the user can act on (never the URL: it holds the token). */
export class FileFetchError extends Error {
  override readonly name = "FileFetchError";
}

export const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

export const tooLargeText = (bytes: number | undefined) =>
  `it is ${bytes === undefined ? "over 20 MB" : megabytes(bytes)}, and Telegram lets bots download files up to 20 MB. ` +
  "Send a shorter recording or a smaller file.";

export interface TelegramFiles {
  /** The file's bytes; FileFetchError when it is too large or Telegram does not hand it out. */
  download(fileId: string, knownSize: number | undefined, signal?: AbortSignal): Promise<Uint8Array>;
}

/**
 * Downloads through the Bot API: getFile, then `<apiRoot>/file/bot<token>/<file_path>`. The size
 * is checked before anything is downloaded (from the message, then from getFile) and again on
 * the bytes, so a file over Telegram's limit costs nothing and gets a clear message.
 */
export function telegramFiles(
  api: Api,
  token: string,
  apiRoot: string | undefined,
  fetchImpl: typeof fetch = fetch,
): TelegramFiles {
  const root = (apiRoot ?? DEFAULT_API_ROOT).replace(/\/+$/, "");
  return {
    async download(fileId, knownSize, signal) {
      if (knownSize !== undefined && knownSize > BOT_DOWNLOAD_LIMIT_BYTES)
        throw new FileFetchError(tooLargeText(knownSize));
      const file = await getFile(api, fileId);
      if (file.file_size !== undefined && file.file_size > BOT_DOWNLOAD_LIMIT_BYTES)
        throw new FileFetchError(tooLargeText(file.file_size));
      if (!file.file_path) throw new FileFetchError("Telegram did not hand out that file; send it again.");
      const res = await fetchImpl(
        `${root}/file/bot${token}/${file.file_path}`,
        signal ? { signal } : {},
      ).catch(() => undefined);
      if (!res?.ok)
        throw new FileFetchError(
          `the download from Telegram failed (${res ? `HTTP ${res.status}` : "no connection"}); send it again.`,
        );
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (bytes.byteLength > BOT_DOWNLOAD_LIMIT_BYTES)
        throw new FileFetchError(tooLargeText(bytes.byteLength));
      return bytes;
    },
  };
}

/** getFile, with Telegram's "file is too big" answer turned into the clear message. */
async function getFile(api: Api, fileId: string) {
  try {
    return await api.getFile(fileId);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/too big/i.test(text)) throw new FileFetchError(tooLargeText(undefined));
    throw new FileFetchError("Telegram did not hand out that file; send it again.");
  }
}
