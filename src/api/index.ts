/** The resource API: schemas, static types, the kind registry, validation and CRDs. */
export * from './bind9cluster.ts';
export * from './bind9cluster-schema.ts';
export * from './bind9instance.ts';
export * from './bind9instance-schema.ts';
export * from './crd.ts';
export * from './dnszone.ts';
export * from './dnszone-schema.ts';
export * from './kind-schemas.ts';
export * from './kinds.ts';
export * from './meta.ts';
export * from './meta-schema.ts';
export * from './patterns.ts';
export * from './record-specs.ts';
export * from './records.ts';
export * from './semantics.ts';
export * from './validate.ts';
