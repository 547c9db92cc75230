// PLACEHOLDER: being written
export function attention_forward(): f64 { unreachable(); return 0; }
export function attention_backward(): f64 { unreachable(); return 0; }
export function attention_probs(): f64 { unreachable(); return 0; }
