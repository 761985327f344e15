/**
 * The Gateway API CRDs for tests, from their Go module's YAML (`config/crd/standard/`),
 * fetched through the Go module proxy like the control plane's sources (`go mod download`,
 * no web downloads) and kept in the build cache beside the control plane:
 *
 *     await cluster.installCrds(await gatewayApiCrds());
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot } from './cluster.ts';

const run = promisify(execFile);

/** The newest release that Go 1.26 takes (v1.7 wants a newer toolchain). */
export const GATEWAY_API_VERSION = 'v1.6.3';

/** The kinds records are generated from, and the Gateways routes attach to. */
const CRDS = ['gateways', 'gatewayclasses', 'httproutes', 'grpcroutes', 'tlsroutes'];

/** A directory holding the standard-channel CRDs of those kinds (fetched once). */
export async function gatewayApiCrds(version = GATEWAY_API_VERSION): Promise<string> {
  const dir = join(cacheRoot(), `gateway-api-${version}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  const { stdout } = await run(
    'go',
    ['mod', 'download', '-json', `sigs.k8s.io/gateway-api@${version}`],
    {
      env: { ...process.env, GOFLAGS: '-mod=mod' },
      maxBuffer: 1 << 20,
    },
  );
  const module = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (module.Dir === undefined)
    throw new Error(`go mod download gateway-api: ${module.Error ?? stdout}`);
  // Filled beside the cache and renamed into place, so a reader never sees half of it.
  await mkdir(cacheRoot(), { recursive: true });
  const tmp = await mkdtemp(join(cacheRoot(), `.gateway-api-${version}-`));
  for (const plural of CRDS) {
    const file = `gateway.networking.k8s.io_${plural}.yaml`;
    await copyFile(join(module.Dir, 'config/crd/standard', file), join(tmp, file));
  }
  await writeFile(join(tmp, 'complete'), `${version}\n`);
  await rename(tmp, dir).catch(async () => rm(tmp, { recursive: true, force: true }));
  return dir;
}
