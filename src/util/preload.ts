/**
 * bin/node-tcmalloc runs node with tcmalloc in LD_PRELOAD
 * (docs/performance.md#the-allocator); child processes inherit it. Programs
 * that are not ours (Chromium, with its own allocator; the PyTorch reference
 * of the benchmarks, timed as Debian's python3 runs it) start without it.
 */

/** env less the tcmalloc that bin/node-tcmalloc put in LD_PRELOAD (any other preloads kept). */
export function withoutPreloadedMalloc(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = (env.LD_PRELOAD ?? '').split(':').filter((l) => l && !/libtcmalloc/.test(l));
  const out = { ...env };
  if (rest.length) out.LD_PRELOAD = rest.join(':');
  else delete out.LD_PRELOAD;
  return out;
}
