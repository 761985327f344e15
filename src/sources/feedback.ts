/**
 * Events on a source, once per change (issue #15: "an Event when a name is published or
 * withdrawn, with the zone"; a Warning when no allowed zone covers a name, when a generated
 * record cannot be served, e.g. `Conflict` naming the owner, and for bad annotations).
 *
 * Each reconcile of a source notes the state of every item it looked at (a name's placement,
 * a generated record's Ready, an annotation's problem); an Event goes out when an item's
 * state differs from the one noted by the round before. The first round of a source in this
 * process notes what its records already show without an Event, so a restart does not
 * repeat "Published" for every name; Warnings are repeated once.
 */
import type { KubeObject } from '../kube/client.ts';
import type { EventRecorder, EventType } from '../kube/events.ts';

export interface SourceEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

/** One reconcile's notes for one source. */
export class Round {
  readonly #before: ReadonlyMap<string, string> | undefined;
  readonly #now = new Map<string, string>();
  readonly #pending: SourceEvent[] = [];

  constructor(before: ReadonlyMap<string, string> | undefined) {
    this.#before = before;
  }

  /** Notes `item` in `state`; queues `event` when the state changed (or is new). */
  note(item: string, state: string, event: SourceEvent | undefined, quietAtFirst = false): void {
    this.#now.set(item, state);
    if (event === undefined) return;
    const previous = this.#before?.get(item);
    if (previous === state) return;
    if (this.#before === undefined && quietAtFirst) return;
    this.#pending.push(event);
  }

  /** Queues an Event that is not a state (a record withdrawn). */
  tell(event: SourceEvent): void {
    this.#pending.push(event);
  }

  get states(): ReadonlyMap<string, string> {
    return this.#now;
  }

  get events(): readonly SourceEvent[] {
    return this.#pending;
  }
}

export class Feedback {
  readonly #states = new Map<string, ReadonlyMap<string, string>>();

  begin(id: string): Round {
    return new Round(this.#states.get(id));
  }

  /** Writes the round's Events on `obj` (when there is an object to name) and keeps its states. */
  async end(
    id: string,
    round: Round,
    obj: KubeObject | undefined,
    events: EventRecorder,
  ): Promise<void> {
    if (round.states.size === 0) this.#states.delete(id);
    else this.#states.set(id, round.states);
    if (obj === undefined) return;
    for (const e of round.events) await events.record(obj, e.type, e.reason, e.message);
  }
}
