/** Builds a parameterised WHERE clause from optional filters, so no caller pastes values into SQL. */
export class Filters {
  private readonly clauses: string[] = [];
  readonly args: unknown[] = [];

  /** Add `sql` with `?` standing for `value`; skipped when the value is undefined. */
  add(sql: string, value: unknown): this {
    if (value !== undefined) this.clauses.push(sql.replace('?', `$${this.args.push(value)}`));
    return this;
  }

  /** Add a clause without a parameter. */
  when(condition: boolean, sql: string): this {
    if (condition) this.clauses.push(sql);
    return this;
  }

  /** A placeholder for a value used after the WHERE (LIMIT, ...). */
  param(value: unknown): string {
    return `$${this.args.push(value)}`;
  }

  toString(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}
