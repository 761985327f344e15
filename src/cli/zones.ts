/**
 * What `plan` and `apply` do with each zone of the manifests, the same for both: the input
 * of the sync loop (src/bind/sync.ts, the loop the controller runs too) built from the
 * manifests, and where that loop's lines go.
 */
import type { SyncInput, SyncLog } from '../bind/sync.ts';
import { fqdn } from '../dns/rrset.ts';
import { zoneConfigOf } from '../reconcilers/desired.ts';
import type { ZoneManifests } from './manifests.ts';
import type { CliIO, TargetOptions } from './target.ts';

/** The zone as the controller would sync it; prune when asked here or by the DNSZone. */
export function syncInputOf(zone: ZoneManifests, options: TargetOptions): SyncInput {
  return {
    zone: zoneConfigOf(zone.zone.object),
    desired: zone.desired.rrsets,
    removals: [],
    prune: options.prune || zone.zone.object.spec.prune === true,
  };
}

/** The loop's log: a re-read after a failed prerequisite is worth saying; the rest is in the report. */
export function cliLog(io: CliIO): SyncLog {
  return {
    info(fields, message) {
      if (message.startsWith('zone changed under us')) {
        io.err(`zone ${fqdn(String(fields.zone))} changed while applying: reading it again`);
      }
    },
  };
}
