// PLACEHOLDER: being written
import type { Tensor } from '../tensor.js';
export interface AdamwOptions { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; step: number }
export function adamw(..._a: unknown[]): void { throw new Error('adamw: not implemented'); }
