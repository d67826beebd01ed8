export * from './ledger.ts';
export * from './random.ts';
export * from './report.ts';
export * from './run.ts';
export * from './support.ts';
