import type { Cluster, Redis } from 'ioredis';

/** The two ioredis clients the store accepts: one node (or Sentinel-managed) and Redis Cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}
