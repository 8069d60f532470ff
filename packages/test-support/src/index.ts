export { freePort, freePorts } from './free-port.js';
export type { PrivatePostgresOptions } from './private-postgres.js';
export { PrivatePostgres } from './private-postgres.js';
export { PrivatePrometheus } from './private-prometheus.js';
export type { PrivateRedisOptions, StartOptions } from './private-redis.js';
export { PrivateRedis, redisAnswers } from './private-redis.js';
export { sleep } from './sleep.js';
