import { describeStoreConformance } from '@sessionkit/core/store/testing';
import { pgliteStores } from './databases.js';

const stores = pgliteStores();

describeStoreConformance('KyselyStore on PGlite (in-memory)', {
  connect: () => stores.connect(),
  teardown: () => stores.close(),
});
