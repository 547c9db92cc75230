// PLACEHOLDER: being written
import type { Tensor } from '../tensor.js';
export interface AttentionOptions { keyMask?: Tensor; causal?: boolean; scale?: number }
export function attention(..._a: unknown[]): Tensor { throw new Error('ni'); }
export function attentionBackward(..._a: unknown[]): { dq: Tensor; dk: Tensor; dv: Tensor } { throw new Error('ni'); }
export function attentionWeights(..._a: unknown[]): Tensor { throw new Error('ni'); }
