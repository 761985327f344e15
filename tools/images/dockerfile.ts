/**
 * The run-time configuration of the Dockerfile's final stage (ENV, WORKDIR, USER, EXPOSE,
 * ENTRYPOINT, CMD), read from the Dockerfile itself, so the locally built controller image
 * starts exactly as the image users build with `docker build` does.
 */
import { readFileSync } from 'node:fs';
import { DOCKERFILE, instructions, parseEnvInstruction } from '../../bench/lib/image-env.ts';

export interface ImageConfig {
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string | undefined;
  readonly user: string | undefined;
  readonly expose: readonly string[];
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

export class DockerfileError extends Error {
  override readonly name = 'DockerfileError';
}

/** `["node", "x.js"]` (exec form); the shell form is refused: our Dockerfile does not use it. */
function execForm(keyword: string, args: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch (cause) {
    throw new DockerfileError(`${keyword} ${args}: only the JSON (exec) form is read`, { cause });
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new DockerfileError(`${keyword} ${args}: not a list of strings`);
  }
  return parsed;
}

interface Stage {
  env: Record<string, string>;
  workdir: string | undefined;
  user: string | undefined;
  expose: string[];
  entrypoint: string[];
  cmd: string[];
}

const emptyStage = (): Stage => ({
  env: {},
  workdir: undefined,
  user: undefined,
  expose: [],
  entrypoint: [],
  cmd: [],
});

function apply(stage: Stage, keyword: string, args: string): Stage {
  switch (keyword) {
    case 'FROM':
      return emptyStage();
    case 'ENV':
      Object.assign(stage.env, parseEnvInstruction(args));
      return stage;
    case 'WORKDIR':
      stage.workdir = args;
      return stage;
    case 'USER':
      stage.user = args;
      return stage;
    case 'EXPOSE':
      stage.expose.push(...args.split(/\s+/).map((p) => (p.includes('/') ? p : `${p}/tcp`)));
      return stage;
    case 'ENTRYPOINT':
      stage.entrypoint = execForm(keyword, args);
      return stage;
    case 'CMD':
      stage.cmd = execForm(keyword, args);
      return stage;
    default:
      return stage;
  }
}

/** What the final stage of `text` (default: the repository's Dockerfile) runs with. */
export function finalStageConfig(text = readFileSync(DOCKERFILE, 'utf8')): ImageConfig {
  let stage = emptyStage();
  for (const line of instructions(text)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    stage = apply(stage, keyword.toUpperCase(), rest.join(' '));
  }
  return stage;
}
