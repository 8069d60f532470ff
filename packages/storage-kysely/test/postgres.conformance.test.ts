import { describeStoreConformance } from '@sessionkit/core/store/testing';
import { postgresStores, uniqueSchema } from './databases.js';

const stores = postgresStores(uniqueSchema('sk_conformance'));

describeStoreConformance('KyselyStore on PostgreSQL 127.0.0.1:5432', {
  connect: () => stores.connect(),
  teardown: () => stores.dropSchema(),
});
