// PLACEHOLDER: being written
export function adamw(): f64 { unreachable(); return 0; }
export function sum_squares(): f64 { unreachable(); return 0; }
export function scale(): f64 { unreachable(); return 0; }
