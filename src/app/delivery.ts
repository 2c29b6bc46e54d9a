import type { Engine } from "../engine/engine.ts";
import { callbackSecret } from "../http/signature.ts";
import { CallbackDispatcher } from "../outbox/external-callbacks.ts";
import { ExternalCallbacksRepo } from "../store/system/external-callbacks-repo.ts";
import type { Foundation } from "./foundation.ts";
import type { HermesOptions } from "./options.ts";

export interface DeliveryPart {
  callbacks: CallbackDispatcher;
  /** Signing key of X-Hermes-Signature (hermes.api.callback_secret, else derived from the admin token). */
  secret: () => string | undefined;
  /** Stops listening to the Engine (deliveries themselves stop with callbacks.stop()). */
  unsubscribe: () => void;
}

/** Result callbacks of ideas submitted through the API (the outbox). */
export function createDelivery(
  f: Foundation,
  options: Pick<HermesOptions, "fetch">,
  engine: Engine,
): DeliveryPart {
  const { database, config, clock, log, env } = f;
  const secret = () =>
    callbackSecret(
      config.has("hermes.api.callback_secret") ? config.string("hermes.api.callback_secret") : undefined,
      env.HERMES_ADMIN_TOKEN,
    );
  const callbacks = new CallbackDispatcher({
    repo: new ExternalCallbacksRepo(database.sqlite),
    clock,
    secret,
    maxAttempts: () => config.get("hermes.api.callback_max_attempts"),
    log,
    fetch: options.fetch,
  });
  // Subscribed at once, so no completion is missed before start(); deliveries begin at start().
  const unsubscribe = engine.onEvent(callbacks.onThreadEvent);
  return { callbacks, secret, unsubscribe };
}
