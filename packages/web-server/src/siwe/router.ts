// Placeholder until the Sign-In With Ethereum work lands (it owns this folder).
import { Router } from 'express';
export interface SiweDeps {
  [k: string]: unknown;
}
export function createSiweRouter(_deps: SiweDeps): Router {
  return Router();
}
