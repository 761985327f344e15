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
  const onSignal = (signal: string) => {
    log.info({ signal }, 'stopping');
    wake();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  await Promise.race([controller.start(), stopped]);
  await stopped;
  await controller.stop();
  kube.close();
  if (fatal !== undefined) log.error({ why: fatal }, 'exiting');
  return fatal === undefined ? 0 : 1;
}
