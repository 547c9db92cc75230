// PLACEHOLDER: being written
import type { Tensor } from '../tensor.js';
export function gelu(..._a: unknown[]): Tensor { throw new Error('ni'); }
export function geluBackward(..._a: unknown[]): Tensor { throw new Error('ni'); }
