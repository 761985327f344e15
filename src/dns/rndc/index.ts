/** The rndc control channel: client, typed results and the ISCCC codec. */
export {
  type DelzoneOptions,
  isRndcResult,
  RndcClient,
  type RndcClientOptions,
  type RndcReply,
} from './client.ts';
export {
  type CcList,
  type CcTable,
  type CcValue,
  type DecodedMessage,
  decodeMessage,
  decodeTable,
  encodeMessage,
  encodeTable,
  verifyMessage,
} from './codec.ts';
export { ConnectionClosedError } from './connection.ts';
export { parseStatus, parseZoneStatus, type ServerStatus, type ZoneStatus } from './results.ts';
