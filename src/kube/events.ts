/**
 * Kubernetes Events on our objects (core/v1), so `kubectl describe` shows why. A repeat of
 * the same reason and message on the same object bumps the count of the existing Event
 * instead of creating another, as kubelet's recorder does.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Kube, KubeObject } from './client.ts';
import type { Clock } from './clock.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

const COMPONENT = 'bind9-controller';

interface Sent {
  readonly name: string;
  count: number;
}

export class KubeEventRecorder implements EventRecorder {
  readonly #kube: Kube;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sent = new Map<string, Sent>();

  constructor(kube: Kube, clock: Clock, log: Logger) {
    this.#kube = kube;
    this.#clock = clock;
    this.#log = log;
  }

  /** Never throws: an Event that cannot be written is logged and dropped. */
  async record(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const key = `${obj.metadata.uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = new Date(this.#clock.now()).toISOString();
    const namespace = obj.metadata.namespace;
    try {
      const previous = this.#sent.get(key);
      if (previous !== undefined) {
        previous.count++;
        const patch = { count: previous.count, lastTimestamp: now };
        await this.#kube.patchEvent(namespace, previous.name, patch);
        return;
      }
      const name = `${obj.metadata.name}.${randomBytes(8).toString('hex')}`;
      await this.#kube.createEvent(namespace, {
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: COMPONENT },
        reportingComponent: COMPONENT,
        reportingInstance: COMPONENT,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
      this.#sent.set(key, { name, count: 1 });
      if (this.#sent.size > 10_000) this.#sent.clear();
    } catch (error) {
      this.#sent.delete(key);
      this.#log.warn(
        { err: error instanceof Error ? error.message : String(error), reason },
        'could not write event',
      );
    }
  }
}

/** Collects Events in memory (unit tests of reconcilers). */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { name: string; type: EventType; reason: string; message: string }[] = [];
  async record(obj: KubeObject, type: EventType, reason: string, message: string) {
    this.events.push({ name: obj.metadata.name, type, reason, message });
  }
}
