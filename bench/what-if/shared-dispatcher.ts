/**
 * What-if preload, never used by the product: makes @kubernetes/client-node 2.0.1 reuse one
 * undici Agent per KubeConfig instead of building a new one (a new TLS SecureContext and a
 * new connection) for every request, to measure what connection reuse would give.
 *
 *     BENCH_CONTROLLER_NODE_ARGS="--import=$PWD/bench/what-if/shared-dispatcher.ts" \
 *       node bench/burst.ts
 */
import { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (this: object, cluster: unknown, options: unknown) => unknown;
const proto = KubeConfig.prototype as unknown as { createDispatcher: CreateDispatcher };
const original = proto.createDispatcher;
const shared = new WeakMap<object, unknown>();

proto.createDispatcher = function createDispatcher(cluster, options) {
  if (!shared.has(this)) shared.set(this, original.call(this, cluster, options));
  return shared.get(this);
};
