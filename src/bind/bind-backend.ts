/**
 * The `ZoneBackend` on the real thing: rndc zone provisioning (zones.ts), the planner's
 * executor and the DNS client (TSIG-signed UPDATE and AXFR).
 */
import { type DnsClient, updateMessageSize } from '../dns/client.ts';
import type { RRset } from '../dns/rrset.ts';
import { isControllerError } from '../errors.ts';
import type { EnsureResult, Fingerprint, ZoneBackend } from './backend.ts';
import { type ApplyResult, applyPlan } from './executor.ts';
import type { Plan } from './plan.ts';
import type { KeyRefusals } from './refusals.ts';
import type { ServedSerials } from './served.ts';
import type { InstanceTarget } from './target.ts';
import type { ZoneConfig } from './zone-file.ts';
import { ensureZone, removeZone, retransferZone, serverFingerprint } from './zones.ts';

export interface BindBackendOptions {
  readonly dns: DnsClient;
  /** Where the serials of records-only zones are noted after each read and write. */
  readonly served?: ServedSerials;
  /** Refusals of a key to update a zone, answered from memory while fresh (refusals.ts). */
  readonly refusals?: KeyRefusals;
  /** One UPDATE message answered (`NOERROR` or the error's code). */
  readonly onUpdate?: (instance: string, rcode: string) => void;
}

/** Answers from a server that does not serve the zone (a secondary before its first transfer). */
const NOT_SERVED = new Set(['REFUSED', 'NOTAUTH', 'SERVFAIL']);

export class BindBackend implements ZoneBackend {
  readonly #o: BindBackendOptions;

  constructor(options: BindBackendOptions) {
    this.#o = options;
  }

  ensureZone(t: InstanceTarget, zone: ZoneConfig): Promise<EnsureResult> {
    return ensureZone(t, zone);
  }

  /** A records-only instance's zones are someone else's: the controller never deletes one. */
  async removeZone(t: InstanceTarget, zoneName: string): Promise<void> {
    if (t.recordsOnly === true) return;
    await removeZone(t, zoneName);
  }

  /**
   * rndc status; a records-only instance has no control channel, and its lost data is seen
   * by the serials of its zones instead (served.ts), so its fingerprint never changes.
   */
  async fingerprint(t: InstanceTarget): Promise<Fingerprint> {
    if (t.recordsOnly === true) return { bootTime: 'records-only', zoneCount: 0 };
    return serverFingerprint(t);
  }

  /**
   * A signed SOA query for the root: named checks the TSIG before it decides it is not
   * authoritative, so REFUSED proves both reachability and the key; BADSIG/BADKEY do not.
   */
  async probeDns(t: InstanceTarget): Promise<void> {
    try {
      await this.#o.dns.query(t.dns, '', 'SOA', t.tsigKey);
    } catch (error) {
      if (isControllerError(error) && (error.code === 'REFUSED' || error.code === 'NOTAUTH')) {
        return;
      }
      throw error;
    }
  }

  async readZone(t: InstanceTarget, zoneName: string): Promise<RRset[]> {
    const observed = await this.#o.dns.axfr(t.dns, t.tsigKey, zoneName);
    if (t.recordsOnly === true) this.#o.served?.noteRead(t.id, zoneName, observed);
    return observed;
  }

  /** A server that does not serve the zone (yet) answers REFUSED/SERVFAIL/NOTAUTH: no serial. */
  async zoneSerial(t: InstanceTarget, zoneName: string): Promise<number | undefined> {
    try {
      const soa = await this.#o.dns.querySoa(t.dns, zoneName, t.tsigKey);
      return soa?.rdata[0]?.serial;
    } catch (error) {
      if (isControllerError(error) && NOT_SERVED.has(error.code)) return undefined;
      throw error;
    }
  }

  async retransfer(t: InstanceTarget, zoneName: string): Promise<void> {
    await retransferZone(t, zoneName);
  }

  async apply(t: InstanceTarget, plan: Plan): Promise<ApplyResult> {
    this.#o.refusals?.check(t, plan.zone);
    try {
      const result = await applyPlan(this.#o.dns, t.dns, t.tsigKey, plan, {
        measure: updateMessageSize,
        onMessage: (event) => {
          const rcode =
            event.error === undefined
              ? 'NOERROR'
              : isControllerError(event.error)
                ? event.error.code
                : 'ERROR';
          this.#o.onUpdate?.(t.id, rcode);
        },
      });
      this.#o.refusals?.note(t, plan.zone, undefined);
      return result;
    } catch (error) {
      this.#o.refusals?.note(t, plan.zone, error);
      throw error;
    } finally {
      // Our own writes moved the serial: note where they left it (a records-only zone).
      if (t.recordsOnly === true && this.#o.served !== undefined) {
        const serial = await this.zoneSerial(t, plan.zone).catch(() => undefined);
        this.#o.served.note(t.id, plan.zone, serial);
      }
    }
  }
}
