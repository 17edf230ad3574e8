/**
 * A syntactic UCUM check: decides whether a unit string (OBX-6.1) can be sent as a UCUM code.
 * It knows the common clinical atoms and the metric prefixes, not the whole UCUM table, so a
 * rare but valid unit may be reported as not UCUM (it is then kept as display text only).
 */

const PREFIXES = [
  'da',
  'Ki',
  'Mi',
  'Gi',
  'Ti',
  'Y',
  'Z',
  'E',
  'P',
  'T',
  'G',
  'M',
  'k',
  'h',
  'd',
  'c',
  'm',
  'u',
  'n',
  'p',
  'f',
  'a',
  'z',
  'y',
];

/** Atoms that take prefixes. */
const METRIC = new Set([
  'm',
  's',
  'g',
  'rad',
  'K',
  'C',
  'cd',
  'mol',
  'sr',
  'Hz',
  'N',
  'Pa',
  'J',
  'W',
  'A',
  'V',
  'F',
  'Ohm',
  'S',
  'Wb',
  'Cel',
  'T',
  'H',
  'lm',
  'lx',
  'Bq',
  'Gy',
  'Sv',
  'l',
  'L',
  'ar',
  't',
  'bar',
  'u',
  'eV',
  'cal',
  'kat',
  'U',
  '[IU]',
  '[iU]',
  'eq',
  'osm',
  'g%',
  'm[Hg]',
  'm[H2O]',
  'B',
  'Np',
  'bit',
  'By',
  'Bd',
  'mho',
  'Ci',
  'R',
  'RAD',
  'REM',
  'P',
  'St',
  'dyn',
  'erg',
  'G',
  'Gal',
  'Ky',
]);

/** Atoms that do not take prefixes. */
const NON_METRIC = new Set([
  '10*',
  '10^',
  '%',
  '[ppth]',
  '[ppm]',
  '[ppb]',
  '[pptr]',
  'min',
  'h',
  'd',
  'wk',
  'mo',
  'a',
  'mo_j',
  'mo_g',
  'a_j',
  'a_g',
  '[pi]',
  'deg',
  "'",
  "''",
  '[in_i]',
  '[ft_i]',
  '[yd_i]',
  '[mi_i]',
  '[lb_av]',
  '[oz_av]',
  '[gr]',
  '[degF]',
  '[degR]',
  '[drp]',
  '[pH]',
  "[arb'U]",
  "[USP'U]",
  '[CFU]',
  '[HPF]',
  '[LPF]',
  '[PFU]',
  "[beth'U]",
  "[todd'U]",
  "[ka'U]",
  "[knk'U]",
  "[mclg'U]",
  "[tb'U]",
  "[hp'_X]",
  "[hp'_C]",
  '[Ch]',
  '[iU]',
  '[IU]',
  '[mesh_i]',
  '[sft_i]',
  '[sin_i]',
  '[cft_i]',
  '[cin_i]',
  '[foz_us]',
  '[gal_us]',
  '[pt_us]',
  '[qt_us]',
  '[tbs_us]',
  '[tsp_us]',
  '[cup_us]',
  '[mm_i]',
]);

function isSimpleUnit(symbol: string): boolean {
  if (METRIC.has(symbol) || NON_METRIC.has(symbol)) return true;
  for (const prefix of PREFIXES) {
    if (symbol.startsWith(prefix) && METRIC.has(symbol.slice(prefix.length))) return true;
  }
  return false;
}

/** annotatable: simple unit with optional signed integer exponent; or a bare annotation / factor. */
function isComponent(text: string): boolean {
  if (text === '') return false;
  let body = text;
  const annotation = /\{[^{}]*\}$/.exec(body);
  if (annotation) {
    body = body.slice(0, annotation.index);
    if (body === '') return true;
  }
  if (/^\d+$/.test(body)) return true;
  if (body.startsWith('(') && body.endsWith(')')) return isTerm(body.slice(1, -1));
  const m = /^(.*?)([+-]?\d+)?$/.exec(body);
  const symbol = m?.[1] ?? '';
  if (symbol === '') return false;
  if (symbol === '10*' || symbol === '10^') return m?.[2] !== undefined;
  return isSimpleUnit(symbol);
}

/** Splits a term on top-level `.` and `/` (not inside brackets, braces or parentheses). */
function splitTerm(term: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of term) {
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    if (ch === ']' || ch === '}' || ch === ')') depth--;
    if (depth < 0) return undefined;
    if (depth === 0 && (ch === '.' || ch === '/')) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(current);
  return parts;
}

function isTerm(term: string): boolean {
  const parts = splitTerm(term);
  return parts?.every(isComponent) ?? false;
}

/** True when `unit` is a syntactically valid UCUM expression built from known atoms. */
export function isUcumUnit(unit: string): boolean {
  if (unit === '' || unit.length > 100 || /\s/.test(unit)) return false;
  return isTerm(unit.startsWith('/') ? unit.slice(1) : unit);
}
