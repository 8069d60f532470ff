export { describeDpopReplayCacheConformance } from './dpop-replay-conformance.js';
export type { StoreConformanceOptions } from './store-conformance.js';
export { describeStoreConformance } from './store-conformance.js';
