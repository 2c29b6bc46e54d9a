import type { Context } from "grammy";

/**
 * What came with a message besides its text (today: a photo's bytes), kept beside the update
 * while the text goes through the plain-text features (./media.ts hands it on as typed text).
 * The idea flow (./ideas.ts) passes the images with a new idea and notes where they went, so the
 * media feature can say truthfully whether the photo was seen.
 */
export interface Attachment {
  /** Base64 images. */
  images: string[];
  /** Set by the idea flow when a new idea took the images: the backend and model that see them. */
  seenBy?: { backend: string; model: string } | undefined;
}

const attachments = new WeakMap<object, Attachment>();

export function attach(ctx: Context, attachment: Attachment): void {
  attachments.set(ctx.update, attachment);
}

export function attachmentOf(ctx: Context): Attachment | undefined {
  return attachments.get(ctx.update);
}
