/**
 * The serial each zone of a records-only instance had when the controller last looked,
 * after its own writes: a served serial that differs was changed outside the controller —
 * a hand edit, or the server restarted with the zone reloaded from its own file, its
 * records lost. Such a server has no rndc whose boot time or zone count would say so (the
 * fingerprint of an instance with rndc), so the health poll asks each zone's SOA instead
 * and sends the zones that changed through the fast lane, to be read and replayed.
 */
import { normalizeName, type RRset } from '../dns/rrset.ts';

export class ServedSerials {
  readonly #last = new Map<string, number>();

  /** The serial the zone has on the instance now, as the controller left it. */
  note(instance: string, zone: string, serial: number | undefined): void {
    if (serial === undefined) this.#last.delete(keyOf(instance, zone));
    else this.#last.set(keyOf(instance, zone), serial);
  }

  /** Notes the serial of a zone as read by AXFR. */
  noteRead(instance: string, zone: string, observed: readonly RRset[]): void {
    const soa = observed.find((r) => r.type === 'SOA');
    this.note(instance, zone, soa?.type === 'SOA' ? soa.rdata[0]?.serial : undefined);
  }

  /**
   * True when the zone was seen before and its served serial (undefined: not served) is
   * not the one the controller left. A zone never seen is not changed: its first
   * reconcile reads it anyway.
   */
  changed(instance: string, zone: string, served: number | undefined): boolean {
    const last = this.#last.get(keyOf(instance, zone));
    return last !== undefined && last !== served;
  }

  /** Forgets an instance (deleted). */
  forget(instance: string): void {
    for (const key of this.#last.keys()) if (key.startsWith(`${instance} `)) this.#last.delete(key);
  }
}

function keyOf(instance: string, zone: string): string {
  return `${instance} ${normalizeName(zone)}`;
}
