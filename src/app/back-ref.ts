/**
 * A back-reference made explicit: a part built early (the scheduler) calls a part built later (the
 * Engine) through this port, which the composition root connects once the later part exists.
 */
export interface BackRef<T> {
  connect(target: T): void;
  get(): T;
}

export function backRef<T>(name: string): BackRef<T> {
  let target: T | undefined;
  return {
    connect(t) {
      if (target) throw new Error(`${name} is already connected`);
      target = t;
    },
    get() {
      if (!target) throw new Error(`${name} is not ready`);
      return target;
    },
  };
}
