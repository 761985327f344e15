/**
 * Where the build caches live, outside the repository: the control plane's and the node's
 * binaries (tools/control-plane/build.sh), the images (tools/images/), and the one-node
 * cluster's image store (test/node/). `$BIND9_CONTROLLER_CACHE` moves all of it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(): string {
  return (
    process.env.BIND9_CONTROLLER_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bind9-controller')
  );
}
