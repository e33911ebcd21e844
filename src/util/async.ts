/** One turn of the event loop: signal handlers (Ctrl-C, SIGTERM) and timers get to run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
