import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** Real Redis on 127.0.0.1:6379, one random key prefix per test file, every key removed afterwards. */
export function redisFixture() {
  const prefix = `sk-sec-test:${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  return {
    prefix,
    connect(): Redis {
      const client = new Redis({
        host: '127.0.0.1',
        port: 6379,
        commandTimeout: 2000,
        maxRetriesPerRequest: 1,
      });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async cleanup(): Promise<void> {
      const admin = new Redis({ host: '127.0.0.1', port: 6379 });
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
      admin.disconnect();
      for (const client of clients) client.disconnect();
    },
  };
}
