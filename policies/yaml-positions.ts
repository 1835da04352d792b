/**
 * YAML read with positions, shared by the policy and compliance loaders: a
 * parse error or a field zod refuses is reported at its line and column.
 */
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { findUnstorable } from '../domain/text';

export interface FileIssue {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}

export interface PositionedYaml {
  doc: Document.Parsed;
  lines: LineCounter;
}

/** Parse YAML; the syntax errors, each at its position, when it does not parse. */
export function parseYaml(file: string, text: string): PositionedYaml | { issues: FileIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length === 0) return { doc, lines };
  return {
    issues: doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, field: '(yaml)', message: e.message.split('\n')[0]! };
    }),
  };
}

/** Where a field stands in the file: the nearest node that exists (for a missing field, the object that should hold it). */
export function positionOf(
  { doc, lines }: PositionedYaml,
  fieldPath: readonly PropertyKey[],
): { line: number; column: number } {
  let path = fieldPath.map(String);
  let node: unknown = undefined;
  while (path.length > 0 && !isNode((node = doc.getIn(path, true)))) path = path.slice(0, -1);
  const offset = isNode(node) && node.range ? node.range[0] : (doc.contents?.range?.[0] ?? 0);
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** zod's issues as file issues, each at the position of its field. */
export function zodIssues(file: string, yaml: PositionedYaml, issues: readonly z.core.$ZodIssue[]): FileIssue[] {
  return issues.map((issue) => ({
    file,
    ...positionOf(yaml, issue.path),
    field: issue.path.join('.') || '(file)',
    message: issue.message,
  }));
}

/** `file:line:column: field: message`, one issue a line. */
export function formatIssues(issues: readonly FileIssue[]): string {
  return issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`).join('\n');
}

/** A character PostgreSQL cannot keep (the file's text is stored with its version), where it stands; or null. */
export function unstorableIssue(file: string, text: string): FileIssue | null {
  const found = findUnstorable(text);
  if (!found) return null;
  const linesBefore = text.slice(0, found.index).split('\n');
  return {
    file,
    line: linesBefore.length,
    column: linesBefore[linesBefore.length - 1]!.length + 1,
    field: '(file)',
    message: `contains ${found.what}; ${found.why}`,
  };
}
