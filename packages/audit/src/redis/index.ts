export type { ReadOptions, RedisStreamReaderOptions, StreamBatch } from './stream-reader.js';
export { RedisAuditStreamReader } from './stream-reader.js';
export type { RedisStreamSinkOptions } from './stream-sink.js';
export { RECORD_FIELD, redisStreamSink } from './stream-sink.js';
