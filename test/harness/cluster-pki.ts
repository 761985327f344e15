/**
 * A throwaway certificate authority for the test control plane, made with the `openssl`
 * command (Node's crypto can read certificates but not issue them).
 *
 * kube-apiserver authenticates client certificates signed by `--client-ca-file`: the
 * subject CN is the user name and each O is a group, so `O=system:masters` is an admin.
 * Keys are P-256: they are generated in milliseconds, which matters on 2 cores.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PEM certificate with its PEM private key, and where they lie on disk. */
export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly dir: string;
  readonly ca: CertPair;
  /** Issues a serving certificate for the given DNS names and IP addresses. */
  serving(name: string, hosts: readonly string[]): Promise<CertPair>;
  /** Issues a client certificate: CN=user, one O per group. */
  client(name: string, user: string, groups: readonly string[]): Promise<CertPair>;
}

// Users and groups go into an openssl `-subj` string, where '/', '=' and '\' are syntax.
const SUBJECT_VALUE = /^[A-Za-z0-9][A-Za-z0-9:._@+-]{0,127}$/;

export class PkiError extends Error {
  override readonly name = 'PkiError';
}

function checkSubjectValue(what: string, value: string): void {
  if (!SUBJECT_VALUE.test(value)) {
    throw new PkiError(`${what} ${JSON.stringify(value)} is not allowed in a test certificate`);
  }
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (cause) {
    throw new PkiError(`openssl ${args[0]} failed`, { cause });
  }
}

async function pair(dir: string, name: string): Promise<CertPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return {
    certFile,
    keyFile,
    cert: await readFile(certFile, 'utf8'),
    key: await readFile(keyFile, 'utf8'),
  };
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string): Promise<CertPair> {
  const config = join(dir, 'ca.cnf');
  await writeFile(
    config,
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = ca',
      'prompt = no',
      '[dn]',
      'CN = bind9-controller test CA',
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await openssl([
    'req',
    '-x509',
    ...EC_KEY,
    '-config',
    config,
    '-days',
    '7',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.crt'),
  ]);
  return pair(dir, 'ca');
}

async function issue(
  dir: string,
  ca: CertPair,
  name: string,
  subject: string,
  extensions: readonly string[],
): Promise<CertPair> {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, `${extensions.join('\n')}\n`);
  const key = join(dir, `${name}.key`);
  await openssl(['req', '-new', ...EC_KEY, '-subj', subject, '-keyout', key, '-out', csr]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    `0x${randomBytes(12).toString('hex')}`,
    '-days',
    '7',
    '-extfile',
    ext,
    '-out',
    join(dir, `${name}.crt`),
  ]);
  return pair(dir, name);
}

function sanList(hosts: readonly string[]): string {
  return hosts.map((h) => (/^[0-9.]+$|:/.test(h) ? `IP:${h}` : `DNS:${h}`)).join(', ');
}

/** Creates a CA in `dir` (which must exist) and returns an issuer bound to it. */
export async function createPki(dir: string): Promise<Pki> {
  return bindPki(dir, await makeCa(dir));
}

/** Re-opens a CA made earlier by `createPki` in `dir` (to mint users for a shared cluster). */
export async function openPki(dir: string): Promise<Pki> {
  return bindPki(dir, await pair(dir, 'ca'));
}

function bindPki(dir: string, ca: CertPair): Pki {
  return {
    dir,
    ca,
    serving: (name, hosts) =>
      issue(dir, ca, name, `/CN=${hosts[0] ?? 'localhost'}`, [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${sanList(hosts)}`,
      ]),
    client: (name, user, groups) => {
      checkSubjectValue('user', user);
      for (const g of groups) checkSubjectValue('group', g);
      const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
      return issue(dir, ca, name, subject, [
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = clientAuth',
      ]);
    },
  };
}

/** An ECDSA key pair for signing and checking service-account tokens (ES256). */
export async function writeServiceAccountKeys(
  dir: string,
): Promise<{ keyFile: string; pubFile: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const keyFile = join(dir, 'sa.key');
  const pubFile = join(dir, 'sa.pub');
  await writeFile(keyFile, privateKey, { mode: 0o600 });
  await writeFile(pubFile, publicKey);
  return { keyFile, pubFile };
}
