// PLACEHOLDER: being written
export function gelu_forward(): f64 { unreachable(); return 0; }
export function gelu_backward(): f64 { unreachable(); return 0; }
