// PLACEHOLDER: being written
export function softmax_forward(..._a: unknown[]): any { throw new Error("softmax_forward: not implemented"); }
export function softmax_backward(..._a: unknown[]): any { throw new Error("softmax_backward: not implemented"); }
