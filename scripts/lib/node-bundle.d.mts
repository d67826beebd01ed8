import type { BuildOptions } from 'esbuild';
/** The esbuild options every Node bundle of the repository shares (node-bundle.mjs). */
export declare const NODE_BUNDLE_OPTIONS: BuildOptions;
