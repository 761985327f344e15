/**
 * `bind9-controller run`: the controller process. SIGTERM/SIGINT stop taking work, let
 * reconciles in flight finish, release the leader lease, then exit 0.
 */
import { pino } from 'pino';
import { CONFIG_HELP, parseConfig } from '../controller/config.ts';
import { Controller } from '../controller/controller.ts';
import { Kube } from '../kube/client.ts';

export async function runController(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: bind9-controller run [options]\n\n${CONFIG_HELP}`);
    return 0;
  }
  const config = parseConfig(args);
  const log = pino({ level: config.logLevel, base: { component: 'bind9-controller' } });
  const kube = await Kube.connect({
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
    inCluster: config.inCluster,
  });
  let fatal: string | undefined;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const controller = new Controller({
    kube,
    config,
    log,
    onFatal: (why) => {
      fatal = why;
      wake();
    },
  });
  let stopping = false;
  const onSignal = (signal: string) => {
    // Kept (not `once`): a second Ctrl-C must not kill the process half-way through handing
    // back the lease and finishing the writes in flight.
    log.info({ signal }, stopping ? 'already stopping' : 'stopping');
    stopping = true;
    wake();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await Promise.race([controller.start(), stopped]);
  await stopped;
  await controller.stop();
  kube.close();
  if (fatal !== undefined) log.error({ why: fatal }, 'exiting');
  return fatal === undefined ? 0 : 1;
}
