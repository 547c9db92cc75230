// PLACEHOLDER: being written
export function adamw(..._a: unknown[]): any { throw new Error("adamw: not implemented"); }
export function sum_squares(..._a: unknown[]): any { throw new Error("sum_squares: not implemented"); }
export function scale(..._a: unknown[]): any { throw new Error("scale: not implemented"); }
