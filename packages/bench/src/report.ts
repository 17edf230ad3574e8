/** Markdown rendering of benchmark results. */

/** Column alignment in a {@link markdownTable}. */
export type Align = 'left' | 'right';

/** A Markdown table; cells are escaped for `|`, columns padded so the source reads as a table too. */
export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  const cells = [headers, ...rows].map((r) => headers.map((_, i) => esc(r[i] ?? '')));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (align[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head!), rule, ...body.map(line)].join('\n');
}

/** Milliseconds with precision that suits their size (0.123, 1.23, 12.3, 123). */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return v.toFixed(a < 1 ? 3 : a < 10 ? 2 : a < 100 ? 1 : 0);
}

/** A whole number with thousands separators. */
export function int(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–';
}

/** A ratio with two decimals. */
export function ratio(v: number): string {
  return Number.isFinite(v) ? v.toFixed(2) : '–';
}

/** `PASS` or `FAIL`. */
export function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}
