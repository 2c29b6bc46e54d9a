/**
 * Replaces node-fetch in the production bundle (rolldown.config.ts): leaving node-fetch@2 out
 * (with whatwg-url and tr46's tables) saves ~14 MB of resident memory. grammY's Bot API calls
 * never get here — the bot hands grammY bot/telegram/fetch.ts — and the one other use, an
 * InputFile made from a URL, only reads the response body, which Node's fetch streams as well.
 */
export default function nodeFetch(url: string | URL, init?: RequestInit): Promise<Response> {
  return fetch(url, init);
}
