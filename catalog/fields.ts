// Field schemas many actions share, described once so every form and doc says the same thing.
import { z } from 'zod';

export const userRef = z
  .string()
  .min(1)
  .describe('The user: user principal name (anna@contoso.com) or object id');

export const groupRef = z
  .string()
  .min(1)
  .describe('The group: object id, display name or mail address');

export const skuRef = z
  .string()
  .min(1)
  .describe('A licence: SKU part number (e.g. SPE_E3) or SKU id');

export const usageLocation = z
  .string()
  .regex(/^[A-Z]{2}$/, 'a two-letter country code such as US or GB')
  .describe('Two-letter country code; required before a licence can be assigned');
