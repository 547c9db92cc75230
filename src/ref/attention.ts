// PLACEHOLDER: being written
export function attention_forward(..._a: unknown[]): any { throw new Error("attention_forward: not implemented"); }
export function attention_backward(..._a: unknown[]): any { throw new Error("attention_backward: not implemented"); }
export function attention_probs(..._a: unknown[]): any { throw new Error("attention_probs: not implemented"); }
