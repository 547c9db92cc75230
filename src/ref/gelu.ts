// PLACEHOLDER: being written
export function gelu_forward(..._a: unknown[]): any { throw new Error("gelu_forward: not implemented"); }
export function gelu_backward(..._a: unknown[]): any { throw new Error("gelu_backward: not implemented"); }
