// PLACEHOLDER: being written
export function embedding_forward(..._a: unknown[]): any { throw new Error("embedding_forward: not implemented"); }
export function embedding_backward(..._a: unknown[]): any { throw new Error("embedding_backward: not implemented"); }
export function bias_forward(..._a: unknown[]): any { throw new Error("bias_forward: not implemented"); }
export function bias_backward(..._a: unknown[]): any { throw new Error("bias_backward: not implemented"); }
export function mean_pool_forward(..._a: unknown[]): any { throw new Error("mean_pool_forward: not implemented"); }
export function mean_pool_backward(..._a: unknown[]): any { throw new Error("mean_pool_backward: not implemented"); }
export function token_mask(..._a: unknown[]): any { throw new Error("token_mask: not implemented"); }
export function add_forward(..._a: unknown[]): any { throw new Error("add_forward: not implemented"); }
