/**
 * Loads the images of tools/images/ into the cluster's containerd (namespace k8s.io, where
 * the kubelet's pods find them) under the names the manifests use. containerd's store is
 * kept across runs (config.ts, CONTAINERD_ROOT), and loaded-images.json records the inputs
 * of what was imported: an unchanged image is not imported again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type BuiltImage, type ImageName, readImageManifest } from '../../tools/images/build.ts';
import { paths } from './config.ts';
import { NodeClusterError, sh } from './system.ts';

const ctr = (...args: string[]) =>
  sh('ctr', ['--address', paths.containerdSocket, '--namespace', 'k8s.io', ...args], {
    timeoutMs: 600_000,
  });

async function loadedRecord(): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(paths.loadedImages, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

/** The images tools/images/build.sh built, all three required. */
export async function builtImages(): Promise<Record<ImageName, BuiltImage>> {
  const manifest = await readImageManifest();
  const { pause, bind9, controller } = manifest;
  if (!pause || !bind9 || !controller) {
    throw new NodeClusterError(
      'images are not built: run tools/images/build.sh (or scripts/setup.sh --node)',
    );
  }
  return { pause, bind9, controller };
}

/**
 * The image ID kubelet reports for a pod running `image` (`status.containerStatuses[].imageID`):
 * the digest of its configuration, named in the docker-archive's manifest.json.
 */
export async function imageId(image: BuiltImage): Promise<string> {
  const manifest = JSON.parse(await sh('tar', ['-xOf', image.archive, 'manifest.json'])) as {
    Config?: string;
  }[];
  const config = manifest[0]?.Config;
  if (!config)
    throw new NodeClusterError(`${image.archive}: no image configuration in manifest.json`);
  return `sha256:${config.replace(/\.json$/, '')}`;
}

/** Imports every image whose archive changed since it was last loaded; returns what it did. */
export async function loadImages(): Promise<string[]> {
  const images = Object.values(await builtImages());
  const record = await loadedRecord();
  const present = new Set((await ctr('images', 'ls', '-q')).split('\n'));
  const loaded: string[] = [];
  for (const image of images) {
    if (record[image.ref] === image.inputs && present.has(image.ref)) continue;
    await ctr('images', 'import', image.archive);
    record[image.ref] = image.inputs;
    await writeFile(paths.loadedImages, `${JSON.stringify(record, null, 2)}\n`);
    loaded.push(image.ref);
  }
  return loaded;
}

/**
 * Removes every container and sandbox a previous run left in containerd's store (its pods
 * are gone with that run's etcd); images stay.
 */
export async function forgetOldContainers(): Promise<number> {
  const tasks = (await ctr('tasks', 'ls', '-q')).split('\n').filter(Boolean);
  for (const id of tasks) await ctr('tasks', 'kill', '-s', 'SIGKILL', id).catch(() => undefined);
  for (const id of tasks) await ctr('tasks', 'delete', '-f', id).catch(() => undefined);
  const containers = (await ctr('containers', 'ls', '-q')).split('\n').filter(Boolean);
  if (containers.length > 0)
    await ctr('containers', 'delete', ...containers).catch(() => undefined);
  return containers.length;
}
