/**
 * Which named.conf a server runs, and how to make it load the current one: for the
 * servers the controller runs itself (Bind9Cluster), whose named.conf carries its own
 * digest as `server-id` (named-conf.ts).
 *
 * A ConfigMap volume reaches a pod some time after the ConfigMap changed (the kubelet's
 * sync period), and named reads its configuration only at start and on `rndc reconfig`.
 * So the reconcile asks each server what it runs (`id.server` in class CHAOS, RFC 4892,
 * signed so that allow-query never hides it) and sends `reconfig` until the answer is
 * the digest it rendered. `reconfig` keeps the zones added by rndc (they live in the NZD
 * database) and reloads no zone whose file did not change.
 */
import type { DnsClient } from '../dns/client.ts';
import { CLASS_CH } from '../dns/message.ts';
import { RndcClient } from '../dns/rndc/client.ts';
import type { RdataByType } from '../dns/rrset.ts';
import type { InstanceTarget } from './target.ts';

export type ConfigTarget = Pick<InstanceTarget, 'dns' | 'tsigKey' | 'rndc'>;

export interface ServerConfig {
  /** The server-id the server answers with; undefined when it sets none. */
  loadedConfig(target: ConfigTarget): Promise<string | undefined>;
  /** `rndc reconfig`: named reads its configuration file again. */
  reconfig(target: ConfigTarget): Promise<void>;
}

export class BindServerConfig implements ServerConfig {
  readonly #dns: DnsClient;
  readonly #timeoutMs: number;

  constructor(dns: DnsClient, timeoutMs = 5000) {
    this.#dns = dns;
    this.#timeoutMs = timeoutMs;
  }

  async loadedConfig(target: ConfigTarget): Promise<string | undefined> {
    const rrset = await this.#dns.query(target.dns, 'id.server', 'TXT', target.tsigKey, CLASS_CH);
    const first = rrset?.rdata[0] as RdataByType['TXT'] | undefined;
    return first?.strings.join('');
  }

  async reconfig(target: ConfigTarget): Promise<void> {
    if (target.rndc === undefined) return;
    const rndc = new RndcClient({
      endpoint: target.rndc.endpoint,
      key: target.rndc.key,
      timeoutMs: this.#timeoutMs,
    });
    try {
      await rndc.command('reconfig');
    } finally {
      rndc.close();
    }
  }
}
