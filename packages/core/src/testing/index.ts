export type { StoreConformanceOptions } from './store-conformance.js';
export { describeStoreConformance, sampleRecord } from './store-conformance.js';
