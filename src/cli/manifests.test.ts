import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatIssue, loadManifests, manifestFiles } from './manifests.ts';

const zone = `apiVersion: dns.bind9-controller.io/v1alpha1
kind: DNSZone
metadata: { name: z, namespace: dns }
spec:
  zoneName: example.com
  instanceSelector: {}
  soaRecord: { primaryNs: ns1.example.net., adminEmail: hostmaster@example.com }
`;

function a(name: string, owner: string, address: string, extra = ''): string {
  return `apiVersion: dns.bind9-controller.io/v1alpha1
kind: ARecord
metadata: { name: ${name}, namespace: dns }
spec: { zone: z, name: ${owner}, ipv4Addresses: ['${address}'] ${extra} }
`;
}

describe('loadManifests', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'manifests-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(path: string, text: string): Promise<string> {
    const file = join(dir, path);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, text);
    return file;
  }

  it('walks directories recursively, keeping only YAML and JSON files, sorted', async () => {
    await write('tree/b.yaml', zone);
    await write('tree/sub/a.yml', a('www', 'www', '192.0.2.1'));
    await write('tree/sub/notes.txt', 'not a manifest');
    const files = await manifestFiles([join(dir, 'tree')]);
    assert.deepEqual(files, [join(dir, 'tree/b.yaml'), join(dir, 'tree/sub/a.yml')]);
  });

  it('reads multi-document files into zones with their records and desired RRsets', async () => {
    const file = await write('multi.yaml', [zone, a('www', 'www', '192.0.2.1'), ''].join('---\n'));
    const set = await loadManifests([file]);
    assert.deepEqual(set.issues, []);
    assert.equal(set.zones.length, 1);
    const [z] = set.zones;
    assert.deepEqual(
      z?.records.map((r) => r.source),
      [{ file, document: 2 }],
    );
    assert.deepEqual(
      z?.desired.rrsets.map((r) => `${r.name} ${r.type} ${r.owner}`),
      ['example.com NS DNSZone/dns/z', 'www.example.com A ARecord/dns/www'],
    );
  });

  it('ignores documents of other APIs and Bind9Instances', async () => {
    const file = await write(
      'other.yaml',
      [zone, 'apiVersion: v1\nkind: Namespace\nmetadata: { name: dns }\n'].join('---\n'),
    );
    const set = await loadManifests([file]);
    assert.deepEqual(set.ignored, [{ file, document: 2 }]);
    assert.deepEqual(set.issues, []);
  });

  it('names file, document, object and field for a schema violation', async () => {
    const file = await write('bad-ip.yaml', [zone, a('www', 'www', '192.0.2.300')].join('---\n'));
    const set = await loadManifests([file]);
    assert.equal(set.issues.length, 1);
    const text = formatIssue(set.issues[0]!);
    assert.ok(
      text.startsWith(`${file}: document 2 (ARecord dns/www): spec.ipv4Addresses[0]: `),
      text,
    );
  });

  it('gives the first record read an RRset and a Conflict to a later one', async () => {
    const file = await write(
      'conflict.yaml',
      [zone, a('first', 'www', '192.0.2.1'), a('second', 'www', '192.0.2.2')].join('---\n'),
    );
    const set = await loadManifests([file]);
    assert.equal(set.issues.length, 1);
    assert.equal(set.issues[0]?.source.document, 3);
    assert.match(set.issues[0]?.message ?? '', /^Conflict: .*ARecord\/dns\/first/);
  });

  it('reports a record whose DNSZone is in no manifest, and a zone declared twice', async () => {
    const orphan = a('www', 'www', '192.0.2.1').replace('zone: z', 'zone: missing');
    const file = await write('orphan.yaml', [zone, orphan, zone].join('---\n'));
    const set = await loadManifests([file]);
    assert.deepEqual(
      set.issues.map((i) => [i.source.document, i.field]),
      [
        [2, 'spec.zone'],
        [3, 'spec.zoneName'],
      ],
    );
  });

  it('reports an invalid zone once, not again for each of its records', async () => {
    const badZone = zone.replace('zoneName: example.com', 'zoneName: "bad zone"');
    const file = await write(
      'bad-zone.yaml',
      [badZone, a('www', 'www', '192.0.2.1')].join('---\n'),
    );
    const set = await loadManifests([file]);
    assert.deepEqual(
      set.issues.map((i) => [i.source.document, i.field]),
      [[1, 'spec.zoneName']],
    );
  });

  it('turns YAML syntax errors into issues instead of throwing', async () => {
    const file = await write('broken.yaml', `${zone}---\nkind: [unclosed\n`);
    const set = await loadManifests([file]);
    assert.equal(set.issues.length, 1);
    assert.equal(set.issues[0]?.source.document, 2);
    assert.match(set.issues[0]?.message ?? '', /^YAML: /);
  });
});
