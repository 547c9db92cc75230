// PLACEHOLDER: being written
export function embedding_forward(): f64 { unreachable(); return 0; }
export function embedding_backward(): f64 { unreachable(); return 0; }
export function bias_forward(): f64 { unreachable(); return 0; }
export function bias_backward(): f64 { unreachable(); return 0; }
export function mean_pool_forward(): f64 { unreachable(); return 0; }
export function mean_pool_backward(): f64 { unreachable(); return 0; }
export function token_mask(): f64 { unreachable(); return 0; }
export function add_forward(): f64 { unreachable(); return 0; }
