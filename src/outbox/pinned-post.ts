import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";

/**
 * POSTs a callback over node:http(s) with the socket's own DNS lookup going through the callback
 * policy: the address checked is the address connected to. A separate check before fetch() left a
 * window in which the name could be re-pointed inside (DNS rebinding); here there is none.
 * Redirects are not followed (a 3xx is the receiver's answer).
 */
export type CheckedLookup = (host: string) => Promise<{ address: string; family: number }>;

export interface PostResult {
  status: number;
}

export function pinnedPost(
  url: string,
  init: { headers: Record<string, string>; body: string; timeoutMs: number },
  lookupChecked: CheckedLookup,
): Promise<PostResult> {
  const target = new URL(url);
  const lookup: LookupFunction = (host, options, callback) => {
    lookupChecked(host).then(
      ({ address, family }) =>
        options.all ? callback(null, [{ address, family }]) : callback(null, address, family),
      (error: Error) => callback(error as NodeJS.ErrnoException, "", 0),
    );
  };
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, {
      method: "POST",
      headers: { ...init.headers, "Content-Length": String(Buffer.byteLength(init.body)) },
      lookup,
      timeout: init.timeoutMs,
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    req.once("error", reject);
    req.once("response", (res: IncomingMessage) => {
      res.resume(); // the body is not needed; draining frees the socket
      resolve({ status: res.statusCode ?? 0 });
    });
    req.end(init.body);
  });
}
