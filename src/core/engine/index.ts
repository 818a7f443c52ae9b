// The engine contract core owns: engines (src/engines) implement it, core and its callers use it.
export * from './names.js';
export * from './reporter.js';
export * from './component.js';
export * from './engine.js';
export * from './capabilities.js';
export * from './shared-options.js';
