/** The inventory file's refusals, for tests. */
import { InventoryFileError, parseInventoryFile } from '../../config/inventory-file';

/** Expect `text`, read as inv.yaml, to be refused with this message (or one that matches it). */
export function expectInventoryFileRefused(text: string, message: string | RegExp): void {
  let error: unknown;
  try {
    parseInventoryFile(text, 'inv.yaml');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(InventoryFileError);
  if (typeof message === 'string') expect((error as Error).message).toBe(message);
  else expect((error as Error).message).toMatch(message);
}
