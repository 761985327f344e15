/**
 * Everything the controller says to a BIND9 server over DNS: TSIG-signed UPDATE (RFC 2136)
 * and AXFR (RFC 5936) over TCP, and SOA/RRset queries over UDP with TCP fallback.
 *
 * Replies are checked before they are believed: matched by ID (transport) and question,
 * their TSIG verified on the bytes received, then their rcode turned into an error typed
 * by what the caller does with it (errors.ts).
 */
import {
  type ControllerError,
  DecodeError,
  type KeyOperation,
  KeyRefusedError,
  PermanentError,
  PrerequisiteError,
  TransientError,
  TsigBadKeyError,
  TsigUnsignedReplyError,
} from '../errors.ts';
import type { SecretKey } from './keyfile.ts';
import {
  CLASS_IN,
  type DecodedMessage,
  type DecodedRecord,
  decodeMessage,
  encodeMessage,
  OPCODE_QUERY,
  OPCODE_UPDATE,
  type Question,
  rcodeName,
  TYPE_AXFR,
  TYPE_SOA,
  tsigRecord,
} from './message.ts';
import { typeCode } from './rdata.ts';
import {
  compareRRsets,
  normalizeName,
  type Rdata,
  type RecordType,
  type RRset,
  type RRsetOf,
} from './rrset.ts';
import { TcpConnection, udpExchange } from './transport.ts';
import { DEFAULT_FUDGE, signRequest, TsigVerifier } from './tsig.ts';
import { encodeUpdate } from './update.ts';
import type { DnsEndpoint, UpdateRequest } from './update-request.ts';

export { MAX_MESSAGE_SIZE, updateMessageSize } from './update.ts';

export interface DnsClientOptions {
  /** Per request; for AXFR, the longest silence between two messages. Default 10 s. */
  timeoutMs?: number;
  /**
   * Opening a TCP connection; default 3 s (at most `timeoutMs`). A server that does not
   * accept within it is down: a short bound keeps one dead server from holding a caller.
   */
  connectTimeoutMs?: number;
  /** Milliseconds since the epoch, for TSIG time signed and checks. Default Date.now. */
  clock?: () => number;
  /** TSIG fudge in seconds (RFC 8945 §5.2.3). Default 300. */
  fudge?: number;
}

const PREREQUISITE_RCODES = new Set(['NXDOMAIN', 'YXDOMAIN', 'NXRRSET', 'YXRRSET']);

function serverText(server: DnsEndpoint): string {
  return `${server.address}:${server.port}`;
}

/**
 * The error for a reply's rcode, or undefined for NOERROR. SERVFAIL is worth retrying;
 * the RFC 2136 §2.4 prerequisite rcodes mean "re-read and re-plan"; anything else
 * (REFUSED, FORMERR, NOTIMP, NOTAUTH, NOTZONE, ...) will not change by retrying. `why`
 * follows the rcode in the message.
 */
export function rcodeError(
  rcode: number,
  what: string,
  server: DnsEndpoint,
  extra: Readonly<Record<string, string | number | boolean>> = {},
  why?: string,
): ControllerError | undefined {
  if (rcode === 0) return undefined;
  const name = rcodeName(rcode);
  const detail = { ...extra, rcode: name, server: serverText(server) };
  const message = `${what}: ${serverText(server)} answered ${name}${why ?? ''}`;
  if (name === 'SERVFAIL') return new TransientError(name, message, { detail });
  if (PREREQUISITE_RCODES.has(name)) return new PrerequisiteError(name, message, { detail });
  return new PermanentError(name, message, { detail });
}

function sameQuestion(a: Question, b: Question): boolean {
  return (
    normalizeName(a.name) === normalizeName(b.name) && a.type === b.type && a.klass === b.klass
  );
}

/** A reply must be a reply, to our opcode and, when it carries a question, to our question. */
function checkReply(m: DecodedMessage, question: Question, opcode: number, mayOmit: boolean): void {
  if (!m.header.qr) throw new DecodeError('reply has the QR bit clear');
  if (m.header.opcode !== opcode) throw new DecodeError(`reply has opcode ${m.header.opcode}`);
  if (m.questions.length === 0 && mayOmit) return;
  if (m.questions.length !== 1 || !sameQuestion(m.questions[0]!, question)) {
    throw new DecodeError('reply does not answer our question');
  }
}

/** One request as the error messages name it. */
interface Asked {
  readonly what: string;
  readonly server: DnsEndpoint;
  readonly operation: KeyOperation;
  readonly key: SecretKey | undefined;
}

const NOT_ACCEPTED = 'so it did not accept the key: it does not know it, or the secret differs';

/** What the other unsigned refusals leave open. */
const UNSIGNED_WHY: Readonly<Record<string, string>> = {
  NOTAUTH:
    ': it does not serve the zone, or did not accept the key (PowerDNS answers an unknown key, a wrong secret and a key its TSIG-ALLOW-AXFR does not list so)',
  REFUSED: ': it does not serve the zone (Knot DNS answers so)',
};

/**
 * What an unsigned error answer to a signed request proves: a server signs every answer to
 * a request whose key it accepted, refusals included (RFC 8945 §5.3), so it did not accept
 * ours or did not get that far. Seen with BIND 9.18, Knot DNS 3.2 and PowerDNS 4.7:
 * REFUSED to an UPDATE and NOTAUTH to a query: the key was not accepted (PowerDNS);
 * NOTAUTH to an AXFR or an UPDATE: the zone is not served (Knot DNS, PowerDNS) or the key
 * was not accepted (PowerDNS); REFUSED to a query: the zone is not served (Knot DNS).
 */
function unsignedAnswerError(rcode: number, asked: Asked): ControllerError | undefined {
  const name = rcodeName(rcode);
  const unsigned = ` without signing it for key ${asked.key?.name}`;
  const keyRefused =
    (name === 'REFUSED' && asked.operation === 'update') ||
    (name === 'NOTAUTH' && asked.operation === 'query');
  if (!keyRefused) {
    return rcodeError(
      rcode,
      asked.what,
      asked.server,
      { signed: false },
      unsigned + (UNSIGNED_WHY[name] ?? ''),
    );
  }
  const policy =
    asked.operation === 'update' ? ', or its policy does not let this key update the zone' : '';
  const server = serverText(asked.server);
  const message = `${asked.what}: ${server} answered ${name}${unsigned}, ${NOT_ACCEPTED}${policy}`;
  return new KeyRefusedError(asked.operation, message, {
    detail: { rcode: name, server, signed: false },
  });
}

/** A BADKEY for a key this server accepted before is its policy speaking (Knot DNS's ACL). */
function policyBadKey(asked: Asked, cause: TsigBadKeyError): KeyRefusedError {
  const may = { update: 'update the zone', transfer: 'transfer the zone', query: 'query' };
  const message = `${asked.what}: ${serverText(asked.server)} answered BADKEY for key ${asked.key?.name}, which it accepted before: its policy does not let this key ${may[asked.operation]} (Knot DNS answers an ACL denial so; see its acl action)`;
  return new KeyRefusedError(asked.operation, message, { cause, detail: cause.detail });
}

/** Groups records into RRsets (first TTL wins), keeping only our types in one class (IN). */
export function groupRRsets(records: readonly DecodedRecord[], klass = CLASS_IN): RRset[] {
  const sets = new Map<string, { name: string; type: RecordType; ttl: number; rdata: Rdata[] }>();
  for (const rr of records) {
    if (rr.klass !== klass || rr.body.kind !== 'rdata') continue;
    const key = `${rr.name}\u0000${rr.body.type}`;
    const set = sets.get(key);
    if (set === undefined) {
      sets.set(key, { name: rr.name, type: rr.body.type, ttl: rr.ttl, rdata: [rr.body.value] });
    } else {
      set.rdata.push(rr.body.value);
    }
  }
  return [...sets.values()].map((s) => s as RRset).sort(compareRRsets);
}

/**
 * The records of an AXFR stream (RFC 5936 §2.2): it opens with the zone's SOA and ends at
 * the next SOA of the zone, which repeats the first and is not kept.
 */
class AxfrStream {
  readonly records: DecodedRecord[] = [];
  readonly #zone: string;
  readonly #what: string;
  #soaSeen = 0;

  constructor(zone: string, what: string) {
    this.#zone = zone;
    this.#what = what;
  }

  get started(): boolean {
    return this.#soaSeen > 0;
  }

  /** Takes one message's answers; true once the closing SOA has arrived. */
  add(answers: readonly DecodedRecord[]): boolean {
    for (const rr of answers) {
      if (this.#soaSeen === 2)
        throw new DecodeError(`${this.#what}: records after the closing SOA`);
      const isSoa = rr.type === TYPE_SOA && rr.name === this.#zone;
      if (this.#soaSeen === 0 && !isSoa) {
        throw new DecodeError(`${this.#what}: the transfer does not start with the zone's SOA`);
      }
      if (isSoa) this.#soaSeen++;
      if (this.#soaSeen < 2) this.records.push(rr);
    }
    return this.#soaSeen === 2;
  }
}

export class DnsClient {
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #clock: () => number;
  readonly #fudge: number;
  readonly #pool = new Map<string, Promise<TcpConnection>>();
  /** Server and key name pairs whose signed answers verified: the server knows the key. */
  readonly #accepted = new Set<string>();

  constructor(options: DnsClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#connectTimeoutMs = Math.min(options.connectTimeoutMs ?? 3_000, this.#timeoutMs);
    this.#clock = options.clock ?? Date.now;
    this.#fudge = options.fudge ?? DEFAULT_FUDGE;
  }

  #now(): number {
    return Math.floor(this.#clock() / 1000);
  }

  /**
   * TSIG first (RFC 8945 §5.3), then the rcode. An unsigned error answer (servers cannot
   * sign when they could not parse or know our key) still reports its rcode, as what it
   * proves (unsignedAnswerError); so does a BADKEY from a server that knew the key.
   */
  #authenticate(raw: Buffer, m: DecodedMessage, verifier: TsigVerifier | undefined, asked: Asked) {
    if (verifier === undefined) return;
    if (tsigRecord(m) === undefined && m.header.rcode !== 0) {
      throw unsignedAnswerError(m.header.rcode, asked);
    }
    const pair = `${serverText(asked.server)} ${normalizeName(asked.key?.name ?? '')}`;
    try {
      verifier.verify(raw, m);
    } catch (error) {
      if (error instanceof TsigBadKeyError && this.#accepted.has(pair)) {
        throw policyBadKey(asked, error);
      }
      throw error;
    }
    this.#accepted.add(pair);
  }

  /** Signs `message(id)` when a key is given; the verifier checks the replies to it. */
  #signer(
    message: (id: number) => Buffer,
    key: SecretKey | undefined,
  ): { build: (id: number) => Buffer; verifier: () => TsigVerifier | undefined } {
    let verifier: TsigVerifier | undefined;
    const build = (id: number): Buffer => {
      const bytes = message(id);
      if (key === undefined) return bytes;
      const signed = signRequest(bytes, key, this.#now(), this.#fudge);
      verifier = new TsigVerifier(key, signed.mac, this.#clock);
      return signed.bytes;
    };
    return { build, verifier: () => verifier };
  }

  /**
   * Sends one RFC 2136 UPDATE over TCP (§7.8 prefers TCP: a retried UDP update can trip
   * its own prerequisites) and resolves when the server answered NOERROR with a valid
   * TSIG. Rejects with TransientError, PermanentError, PrerequisiteError or a TsigError.
   */
  async update(server: DnsEndpoint, key: SecretKey, request: UpdateRequest): Promise<void> {
    const question: Question = {
      name: normalizeName(request.zone),
      type: TYPE_SOA,
      klass: CLASS_IN,
    };
    const asked: Asked = {
      what: `UPDATE of zone ${question.name}`,
      server,
      operation: 'update',
      key,
    };
    const make = () => {
      const signer = this.#signer((id) => encodeUpdate(request, id), key);
      const onReply = (raw: Buffer): boolean => {
        const m = decodeMessage(raw);
        checkReply(m, question, OPCODE_UPDATE, true);
        this.#authenticate(raw, m, signer.verifier(), asked);
        const error = rcodeError(m.header.rcode, asked.what, server);
        if (error !== undefined) throw error;
        return true;
      };
      return { build: signer.build, onReply };
    };
    await this.#pooled(server, make);
  }

  /**
   * Transfers the whole zone (RFC 5936) over its own TCP connection, verifying the TSIG
   * of every message (RFC 8945 §5.3.1), and returns it as RRsets (SOA included, the
   * closing SOA dropped, types outside rrset.ts skipped), sorted by compareRRsets.
   */
  async axfr(server: DnsEndpoint, key: SecretKey, zone: string): Promise<RRset[]> {
    const question: Question = { name: normalizeName(zone), type: TYPE_AXFR, klass: CLASS_IN };
    const what = `AXFR of zone ${question.name}`;
    const asked: Asked = { what, server, operation: 'transfer', key };
    const signer = this.#signer((id) => queryMessage(id, question), key);
    const stream = new AxfrStream(question.name, what);
    const onReply = (raw: Buffer): boolean => {
      const m = decodeMessage(raw);
      checkReply(m, question, OPCODE_QUERY, stream.started);
      const verifier = signer.verifier();
      this.#authenticate(raw, m, verifier, asked);
      const error = rcodeError(m.header.rcode, what, server);
      if (error !== undefined) throw error;
      if (!stream.add(m.answers)) return false;
      // §5.3.1: the last message of a multi-message reply must be signed.
      if (verifier !== undefined && !verifier.settled) {
        throw new TsigUnsignedReplyError(`${what}: the last message is not signed`);
      }
      return true;
    };
    const connection = await TcpConnection.connect(server, this.#connectTimeoutMs);
    try {
      await connection.exchange(signer.build, onReply, this.#timeoutMs);
    } finally {
      await connection.close();
    }
    return groupRRsets(stream.records);
  }

  /** The zone's SOA, or undefined when the server has no such name or no SOA there. */
  async querySoa(
    server: DnsEndpoint,
    zone: string,
    key?: SecretKey,
  ): Promise<RRsetOf<'SOA'> | undefined> {
    const rrset = await this.query(server, zone, 'SOA', key);
    return rrset as RRsetOf<'SOA'> | undefined;
  }

  /**
   * One RRset by name and type, over UDP with a retry over TCP when the reply is truncated
   * (RFC 1035 §4.2.1). Undefined for NXDOMAIN or no data. Signed when a key is given.
   * `klass`: IN, or CLASS_CH to ask a server about itself.
   */
  async query(
    server: DnsEndpoint,
    name: string,
    type: RecordType,
    key?: SecretKey,
    klass = CLASS_IN,
  ): Promise<RRset | undefined> {
    const question: Question = { name: normalizeName(name), type: typeCode(type), klass };
    const what = `query for ${question.name} ${type}`;
    const asked: Asked = { what, server, operation: 'query', key };
    let answer: DecodedMessage | undefined;
    let truncated = false;
    const make = () => {
      const signer = this.#signer((id) => queryMessage(id, question), key);
      const onReply = (raw: Buffer): boolean => {
        const m = decodeMessage(raw);
        checkReply(m, question, OPCODE_QUERY, m.header.rcode !== 0);
        truncated = m.header.tc;
        if (truncated) return true;
        this.#authenticate(raw, m, signer.verifier(), asked);
        if (m.header.rcode !== 3) {
          const error = rcodeError(m.header.rcode, what, server);
          if (error !== undefined) throw error;
        }
        answer = m;
        return true;
      };
      return { build: signer.build, onReply };
    };
    const udp = make();
    await udpExchange(server, udp.build, udp.onReply, this.#timeoutMs);
    if (truncated) await this.#pooled(server, make);
    if (answer === undefined) return undefined;
    const matching = answer.answers.filter(
      (rr) => rr.name === question.name && rr.type === question.type,
    );
    return groupRRsets(matching, klass)[0];
  }

  /**
   * One exchange on the pooled connection to `server`. A reused connection that the
   * server closed while idle (named's tcp-idle-timeout) is replaced once, transparently.
   */
  async #pooled(
    server: DnsEndpoint,
    make: () => { build: (id: number) => Buffer; onReply: (raw: Buffer) => boolean },
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.#connection(server);
      const reused = connection.completed > 0;
      const { build, onReply } = make();
      try {
        await connection.exchange(build, onReply, this.#timeoutMs);
        return;
      } catch (error) {
        if (attempt === 0 && reused && isConnectionLoss(error)) continue;
        throw error;
      }
    }
  }

  async #connection(server: DnsEndpoint): Promise<TcpConnection> {
    const key = serverText(server);
    const existing = this.#pool.get(key);
    if (existing !== undefined) {
      const connection = await existing.catch(() => undefined);
      if (connection !== undefined && !connection.closed) return connection;
      const current = this.#pool.get(key);
      if (current !== existing && current !== undefined) return this.#connection(server);
      this.#pool.delete(key);
    }
    const created = TcpConnection.connect(server, this.#connectTimeoutMs);
    this.#pool.set(key, created);
    created.catch(() => {
      if (this.#pool.get(key) === created) this.#pool.delete(key);
    });
    return created;
  }

  /** Closes every pooled connection. The client stays usable and reconnects on demand. */
  async close(): Promise<void> {
    const connections = [...this.#pool.values()];
    this.#pool.clear();
    await Promise.all(
      connections.map(async (p) => {
        const connection = await p.catch(() => undefined);
        await connection?.close();
      }),
    );
  }
}

function isConnectionLoss(error: unknown): boolean {
  return (
    error instanceof TransientError &&
    ['CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE'].includes(error.code)
  );
}

function queryMessage(id: number, question: Question): Buffer {
  return encodeMessage({
    header: {
      id,
      qr: false,
      opcode: OPCODE_QUERY,
      aa: false,
      tc: false,
      rd: false,
      ra: false,
      rcode: 0,
    },
    questions: [question],
    answers: [],
    authorities: [],
    additionals: [],
  });
}
