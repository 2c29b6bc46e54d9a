import type { Engine } from "../engine/engine.ts";
import { callbackSecret } from "../http/signature.ts";
import { CallbackTargetPolicy } from "../outbox/callback-target.ts";
import { CallbackDispatcher } from "../outbox/external-callbacks.ts";
import { CallbackReplayRepo } from "../store/system/callback-replay-repo.ts";
import { ExternalCallbacksRepo } from "../store/system/external-callbacks-repo.ts";
import type { Foundation } from "./foundation.ts";
import type { HermesOptions } from "./options.ts";

export interface DeliveryPart {
  callbacks: CallbackDispatcher;
  /** Signing key of X-Hermes-Signature (hermes.api.callback_secret; unset: callbacks are off). */
  secret: () => string | undefined;
  /** Refuses callback URLs that point inside (loopback, private, link-local), at submit and delivery. */
  targets: CallbackTargetPolicy;
  /** Signatures of accepted callbacks, so none is accepted twice. */
  replay: CallbackReplayRepo;
  /** Stops listening to the Engine (deliveries themselves stop with callbacks.stop()). */
  unsubscribe: () => void;
}

/** Result callbacks of ideas submitted through the API (the outbox). */
export function createDelivery(
  f: Foundation,
  options: Pick<HermesOptions, "fetch" | "callbackLookup">,
  engine: Engine,
): DeliveryPart {
  const { database, config, clock, log } = f;
  const secret = () => callbackSecret(config.get("hermes.api.callback_secret"));
  const targets = new CallbackTargetPolicy({
    allowedHosts: () => config.get("hermes.api.callback_allowed_hosts"),
    lookup: options.callbackLookup,
  });
  const callbacks = new CallbackDispatcher({
    targets,
    repo: new ExternalCallbacksRepo(database.sqlite),
    clock,
    secret,
    maxAttempts: () => config.get("hermes.api.callback_max_attempts"),
    log,
    fetch: options.fetch,
  });
  // Results that waited for a signing key go as soon as one is set.
  config.onChange((change) => {
    if (change.key === "hermes.api.callback_secret") callbacks.resume();
  });
  // Subscribed at once, so no completion is missed before start(); deliveries begin at start().
  const unsubscribe = engine.onEvent(callbacks.onThreadEvent);
  return { callbacks, secret, targets, replay: new CallbackReplayRepo(database.sqlite), unsubscribe };
}
