/**
 * Builds the three images the one-node cluster runs, with no registry and no Docker
 * (test/node/, scripts/cluster.sh; tools/images/README.md says what each reproduces):
 *
 * - `pause`: our static pause program (tools/control-plane/pause) alone, the pod sandbox;
 * - `bind9`: Debian's `bind9` package on a Debian rootfs, under the name deploy/bind9/ uses
 *   (`docker.io/internetsystemsconsortium/bind9:9.18`), so the manifests run unchanged;
 * - `controller`: the Dockerfile's steps (`npm run build`, production dependencies only, the
 *   final stage's ENV/USER/WORKDIR/ENTRYPOINT/CMD read from the Dockerfile) on a base made of
 *   a Debian rootfs and the Node 24 binary of the `node` npm package, under the name deploy/
 *   renders (`ghcr.io/bind9-controller/bind9-controller:0.1.0`).
 *
 * Rootfs trees come from `mmdebstrap` (Debian's apt mirror), layers from `umoci insert`, the
 * docker-archive that `ctr images import` loads from `skopeo copy`. Each image lands in
 * <cache>/images/<name>.tar and is listed in images.json with the hash of its inputs; an
 * image whose inputs did not change is not built again.
 *
 *   tools/images/build.sh [pause|bind9|controller ...]     (default: all; holds a lock)
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  cp,
  mkdir,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { renderKustomization } from '../../scripts/lib/manifests.ts';
import { cacheDir } from '../cache.ts';
import { finalStageConfig, type ImageConfig } from './dockerfile.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
export const IMAGES_DIR = join(cacheDir(), 'images');
const MANIFEST = join(IMAGES_DIR, 'images.json');
const SUITE = 'bookworm';

export const IMAGE_NAMES = ['pause', 'bind9', 'controller'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/** One built image: its reference, its docker-archive, and the hash of what it was built from. */
export interface BuiltImage {
  readonly name: ImageName;
  readonly ref: string;
  readonly archive: string;
  readonly inputs: string;
}

export class ImageBuildError extends Error {
  override readonly name = 'ImageBuildError';
}

const say = (text: string) => process.stderr.write(`[images] ${text}\n`);

async function sh(cmd: string, args: readonly string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, maxBuffer: 64 << 20, env: buildEnv() });
    return stdout;
  } catch (cause) {
    const err = cause as { stderr?: string };
    const tail = (err.stderr ?? '').split('\n').slice(-15).join('\n');
    throw new ImageBuildError(`${cmd} ${args.slice(0, 3).join(' ')} failed:\n${tail}`, { cause });
  }
}

/** Node 24 and tsc from the repository's node_modules first, as scripts/ do. */
function buildEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
}

const sha = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

export async function readImageManifest(): Promise<Partial<Record<ImageName, BuiltImage>>> {
  try {
    return JSON.parse(await readFile(MANIFEST, 'utf8')) as Record<ImageName, BuiltImage>;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------
// Debian rootfs trees (mmdebstrap), cached by recipe

interface RootfsRecipe {
  readonly name: string;
  readonly include: readonly string[];
  /** Shell run by mmdebstrap after installing, with the tree as "$1". */
  readonly customize: readonly string[];
}

function mirrors(): string[] {
  const debian = process.env.BIND9_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
  const security =
    process.env.BIND9_DEBIAN_SECURITY_MIRROR ?? 'http://deb.debian.org/debian-security';
  return [
    `deb ${debian} ${SUITE} main`,
    `deb ${debian} ${SUITE}-updates main`,
    `deb ${security} ${SUITE}-security main`,
  ];
}

/** Documentation and translations are not needed in a container. */
const DPKG_EXCLUDES = [
  '/usr/share/doc/*',
  '/usr/share/man/*',
  '/usr/share/info/*',
  '/usr/share/locale/*',
].map((p) => `--dpkgopt=path-exclude=${p}`);

/** A Debian rootfs as a tar, built once per recipe (about 30 s, minutes under load). */
async function rootfsTar(recipe: RootfsRecipe): Promise<{ tar: string; key: string }> {
  const key = sha(JSON.stringify({ recipe, SUITE, mirrors: mirrors() })).slice(0, 16);
  const tar = join(IMAGES_DIR, `rootfs-${recipe.name}-${key}.tar`);
  if (existsSync(tar)) return { tar, key };
  for (const old of await readdir(IMAGES_DIR)) {
    if (old.startsWith(`rootfs-${recipe.name}-`)) await rm(join(IMAGES_DIR, old), { force: true });
  }
  say(`mmdebstrap ${SUITE} for ${recipe.name}: ${recipe.include.join(', ')}`);
  const partial = join(IMAGES_DIR, `rootfs-${recipe.name}-${key}.partial.tar`);
  await sh('mmdebstrap', [
    '--variant=minbase',
    '--quiet',
    `--include=${recipe.include.join(',')}`,
    ...DPKG_EXCLUDES,
    ...recipe.customize.map((c) => `--customize-hook=${c}`),
    SUITE,
    partial,
    ...mirrors(),
  ]);
  await rename(partial, tar);
  return { tar, key };
}

/** Unpacks a rootfs tar as root (owners kept); /dev stays empty: the runtime fills it. */
async function unpack(tar: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await sh('tar', ['-xpf', tar, '-C', dir, '--numeric-owner', '--exclude=./dev/*']);
}

// ---------------------------------------------------------------------------------------
// OCI layout (umoci) → docker-archive (skopeo)

interface Layer {
  readonly source: string;
  readonly target: string;
}

function configArgs(config: ImageConfig): string[] {
  const args = ['--os=linux', '--architecture=amd64', '--no-history'];
  for (const [k, v] of Object.entries(config.env)) args.push(`--config.env=${k}=${v}`);
  if (config.workdir) args.push(`--config.workingdir=${config.workdir}`);
  if (config.user) args.push(`--config.user=${config.user}`);
  for (const p of config.expose) args.push(`--config.exposedports=${p}`);
  for (const a of config.entrypoint) args.push(`--config.entrypoint=${a}`);
  for (const a of config.cmd) args.push(`--config.cmd=${a}`);
  return args;
}

/** Writes <IMAGES_DIR>/<name>.tar: one layer per entry, then the image configuration. */
async function assemble(
  name: ImageName,
  ref: string,
  layers: readonly Layer[],
  config: ImageConfig,
) {
  const layout = join(IMAGES_DIR, 'work', `${name}-oci`);
  await rm(layout, { recursive: true, force: true });
  await sh('umoci', ['init', '--layout', layout]);
  const image = `${layout}:img`;
  await sh('umoci', ['new', '--image', image]);
  for (const layer of layers) {
    await sh('umoci', ['insert', '--image', image, '--no-history', layer.source, layer.target]);
  }
  await sh('umoci', ['config', '--image', image, ...configArgs(config)]);
  const archive = join(IMAGES_DIR, `${name}.tar`);
  await rm(archive, { force: true });
  await sh('skopeo', ['copy', '--quiet', `oci:${image}`, `docker-archive:${archive}:${ref}`]);
  await rm(layout, { recursive: true, force: true });
  return archive;
}

// ---------------------------------------------------------------------------------------
// The images

/** `internetsystemsconsortium/bind9:9.18` → `docker.io/internetsystemsconsortium/bind9:9.18`. */
export function normalizeRef(ref: string): string {
  const first = ref.split('/')[0] ?? '';
  const hasRegistry = ref.includes('/') && /[.:]|^localhost$/.test(first);
  if (hasRegistry) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** The image of the first container of the Deployment that a kustomization renders. */
async function deploymentImage(dir: string): Promise<string> {
  const objects = await renderKustomization(join(ROOT, dir));
  const deployment = objects.find((o) => o.kind === 'Deployment') as
    | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
    | undefined;
  const image = deployment?.spec?.template?.spec?.containers?.[0]?.image;
  if (!image) throw new ImageBuildError(`${dir}: no Deployment with an image`);
  return normalizeRef(image);
}

interface Recipe {
  readonly ref: () => Promise<string>;
  readonly inputs: () => Promise<string>;
  readonly build: (ref: string, work: string) => Promise<string>;
}

async function pauseBinary(): Promise<string> {
  const bin = process.env.BIND9_NODE_BIN_DIR;
  if (!bin)
    throw new ImageBuildError('BIND9_NODE_BIN_DIR must name the bin dir of build.sh --node');
  const target = await readlink(join(bin, 'pause')).catch(() => undefined);
  if (!target)
    throw new ImageBuildError(`${bin}/pause is missing: run tools/control-plane/build.sh --node`);
  return join(bin, target);
}

const pause: Recipe = {
  ref: async () => `bind9-controller.local/pause:${(await pauseBinary()).split('pause-')[1]}`,
  inputs: async () => sha(await pauseBinary()),
  build: async (ref) => {
    const layers = [{ source: await pauseBinary(), target: '/pause' }];
    // The numeric "nobody" of upstream's pause image: the sandbox needs no privilege.
    const config = {
      env: {},
      workdir: '/',
      user: '65535:65535',
      expose: [],
      entrypoint: ['/pause'],
      cmd: [],
    };
    return assemble('pause', ref, layers, config);
  },
};

/**
 * Debian's named, with the user `bind` given uid/gid 53 (the numeric user deploy/bind9/
 * runs it as), and without the rndc.key the package's postinst generates: a key baked into
 * an image would be the same in every pod.
 */
const BIND9_ROOTFS: RootfsRecipe = {
  name: 'bind9',
  include: ['bind9', 'bind9-dnsutils'],
  customize: [
    [
      'set -e',
      'uid=$(chroot "$1" id -u bind); gid=$(chroot "$1" id -g bind)',
      'sed -i "s/^bind:x:$uid:$gid:/bind:x:53:53:/" "$1/etc/passwd"',
      'sed -i "s/^bind:x:$gid:/bind:x:53:/" "$1/etc/group"',
      'chroot "$1" find / -xdev -uid "$uid" -exec chown -h 53 {} +',
      'chroot "$1" find / -xdev -gid "$gid" -exec chgrp -h 53 {} +',
      'rm -f "$1/etc/bind/rndc.key"',
    ].join('\n'),
  ],
};

const bind9: Recipe = {
  ref: () => deploymentImage('deploy/bind9'),
  inputs: async () => sha(JSON.stringify({ BIND9_ROOTFS, SUITE, mirrors: mirrors() })),
  build: async (ref, work) => {
    const { tar } = await rootfsTar(BIND9_ROOTFS);
    const tree = join(work, 'rootfs');
    await unpack(tar, tree);
    const config = {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      workdir: '/',
      user: undefined,
      expose: ['53/udp', '53/tcp', '953/tcp'],
      entrypoint: ['/usr/sbin/named'],
      cmd: ['-g', '-c', '/etc/bind/named.conf', '-u', 'bind'],
    };
    return assemble('bind9', ref, [{ source: tree, target: '/' }], config);
  },
};

/** The base of node:24-slim that matters here: glibc, libstdc++ and a `node` user (1000). */
const NODE_ROOTFS: RootfsRecipe = {
  name: 'node',
  include: ['libstdc++6', 'ca-certificates'],
  customize: [
    [
      'set -e',
      'echo \'node:x:1000:1000::/home/node:/bin/sh\' >>"$1/etc/passwd"',
      'echo \'node:x:1000:\' >>"$1/etc/group"',
      'echo \'node:*:19000:0:99999:7:::\' >>"$1/etc/shadow"',
      'mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node"',
    ].join('\n'),
  ],
};

/** What the Dockerfile's build context holds (see .dockerignore): the build's inputs. */
async function contextFiles(): Promise<string[]> {
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
  const src = await readdir(join(ROOT, 'src'), { recursive: true, withFileTypes: true });
  for (const e of src) {
    const path = relative(ROOT, join(e.parentPath, e.name));
    if (e.isFile() && !path.endsWith('.test.ts')) files.push(path);
  }
  return files.sort();
}

async function controllerInputs(): Promise<string> {
  const h = createHash('sha256');
  for (const f of [...(await contextFiles()), 'Dockerfile']) {
    h.update(`${f}\0`)
      .update(await readFile(join(ROOT, f)))
      .update('\0');
  }
  const node = await sh(join(ROOT, 'node_modules/.bin/node'), ['--version']);
  h.update(JSON.stringify({ NODE_ROOTFS, SUITE, mirrors: mirrors(), node }));
  return h.digest('hex');
}

/**
 * The Dockerfile's `build` and `deps` stages: `npm run build` over the context's files (dev
 * dependencies from the repository's node_modules, installed from the same lock), and
 * `npm ci --omit=dev --ignore-scripts` for what the image ships. Returns the /app tree.
 */
async function controllerApp(work: string): Promise<string> {
  const context = join(work, 'context');
  for (const f of await contextFiles()) {
    await cp(join(ROOT, f), join(context, f), { recursive: true });
  }
  await symlink(join(ROOT, 'node_modules'), join(context, 'node_modules'));
  await sh('npm', ['run', 'build', '--silent'], context);
  const deps = join(work, 'deps');
  await mkdir(deps, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) await cp(join(ROOT, f), join(deps, f));
  await sh(
    'npm',
    [
      'ci',
      '--omit=dev',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    deps,
  );
  const app = join(work, 'app');
  await mkdir(app, { recursive: true });
  await rename(join(deps, 'node_modules'), join(app, 'node_modules'));
  await cp(join(ROOT, 'package.json'), join(app, 'package.json'));
  await rename(join(context, 'dist'), join(app, 'dist'));
  return app;
}

const controller: Recipe = {
  ref: () => deploymentImage('deploy'),
  inputs: controllerInputs,
  build: async (ref, work) => {
    const { tar } = await rootfsTar(NODE_ROOTFS);
    const tree = join(work, 'rootfs');
    await unpack(tar, tree);
    const node = join(ROOT, 'node_modules/node/bin/node');
    const layers = [
      { source: tree, target: '/' },
      { source: node, target: '/usr/local/bin/node' },
      { source: await controllerApp(work), target: '/app' },
    ];
    const config = finalStageConfig();
    const env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...config.env,
    };
    return assemble('controller', ref, layers, { ...config, env });
  },
};

const RECIPES: Record<ImageName, Recipe> = { pause, bind9, controller };

/** Builds `name` unless images.json says the archive was made from the same inputs. */
export async function buildImage(name: ImageName): Promise<BuiltImage> {
  const recipe = RECIPES[name];
  const [ref, inputs] = [await recipe.ref(), await recipe.inputs()];
  const known = (await readImageManifest())[name];
  if (known?.ref === ref && known.inputs === inputs && existsSync(known.archive)) return known;
  const work = join(IMAGES_DIR, 'work', name);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const started = Date.now();
  say(`${name}: building ${ref}`);
  const archive = await recipe.build(ref, work);
  await rm(work, { recursive: true, force: true });
  say(`${name}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const built: BuiltImage = { name, ref, archive, inputs };
  const manifest = { ...(await readImageManifest()), [name]: built };
  await writeFile(`${MANIFEST}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${MANIFEST}.tmp`, MANIFEST);
  return built;
}

async function main(names: readonly string[]): Promise<void> {
  await mkdir(IMAGES_DIR, { recursive: true });
  const wanted = names.length > 0 ? names : IMAGE_NAMES;
  for (const name of wanted) {
    if (!(IMAGE_NAMES as readonly string[]).includes(name)) {
      throw new ImageBuildError(`unknown image ${name}: one of ${IMAGE_NAMES.join(', ')}`);
    }
    const built = await buildImage(name as ImageName);
    say(`${name}: ${built.ref} in ${built.archive}`);
  }
}

if (import.meta.main) {
  await main(process.argv.slice(2)).catch((error: unknown) => {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
