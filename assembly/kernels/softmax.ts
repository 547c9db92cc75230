// PLACEHOLDER: being written
export function softmax_forward(): f64 { unreachable(); return 0; }
export function softmax_backward(): f64 { unreachable(); return 0; }
