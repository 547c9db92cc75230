// The js reference backend: every kernel of assembly/kernels/*, file for file, name for name.
export * from './matmul.js';
export * from './softmax.js';
export * from './attention.js';
export * from './layout.js';
export * from './layernorm.js';
export * from './gelu.js';
export * from './tanh.js';
export * from './embed.js';
export * from './loss.js';
export * from './adamw.js';
