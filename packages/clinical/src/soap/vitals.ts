/**
 * Deterministic vital-sign extraction from encounter text, unit conversion, and plausibility ranges.
 * "Implausible" means physiologically impossible or almost certainly a transcription error — not "abnormal".
 */

/** Vital names used in the SOAP output. */
export const VITAL_NAMES = [
  'systolic_bp',
  'diastolic_bp',
  'heart_rate',
  'respiratory_rate',
  'temperature',
  'spo2',
  'weight',
  'height',
] as const;
export type VitalName = (typeof VITAL_NAMES)[number];

/** A vital sign with its unit as written (canonical spelling). */
export interface Vital {
  name: VitalName;
  value: number;
  unit: string;
}

/** Canonical units per vital; the first is the unit plausibility ranges are expressed in. */
export const VITAL_UNITS: Record<VitalName, readonly string[]> = {
  systolic_bp: ['mmHg'],
  diastolic_bp: ['mmHg'],
  heart_rate: ['bpm'],
  respiratory_rate: ['breaths/min'],
  temperature: ['°C', '°F'],
  spo2: ['%'],
  weight: ['kg', 'lb'],
  height: ['cm', 'm', 'in'],
};

const UNIT_ALIASES: Record<string, string> = {
  mmhg: 'mmHg',
  'mm hg': 'mmHg',
  bpm: 'bpm',
  '/min': 'bpm',
  'beats/min': 'bpm',
  'beats per minute': 'bpm',
  'breaths/min': 'breaths/min',
  'breaths per minute': 'breaths/min',
  rpm: 'breaths/min',
  c: '°C',
  '°c': '°C',
  'º c': '°C',
  ºc: '°C',
  celsius: '°C',
  'deg c': '°C',
  f: '°F',
  '°f': '°F',
  ºf: '°F',
  fahrenheit: '°F',
  'deg f': '°F',
  '%': '%',
  percent: '%',
  kg: 'kg',
  kgs: 'kg',
  kilograms: 'kg',
  lb: 'lb',
  lbs: 'lb',
  pounds: 'lb',
  cm: 'cm',
  m: 'm',
  in: 'in',
  inches: 'in',
  '"': 'in',
};

/** Canonical spelling of a unit for a vital, or `undefined` when it is not a unit of that vital. */
export function canonicalUnit(name: VitalName, unit: string): string | undefined {
  let key = unit.trim().toLowerCase().replace(/\s+/g, ' ');
  if (name === 'temperature') key = key.replace(/^(?:°|º|deg(?:rees)?)\s*/, '');
  let canonical = UNIT_ALIASES[key] ?? unit.trim();
  if (name === 'respiratory_rate' && canonical === 'bpm') canonical = 'breaths/min';
  return VITAL_UNITS[name].includes(canonical) ? canonical : undefined;
}

/** Value in the vital's base unit (°C, kg, cm; others unchanged). */
export function toBaseUnit(vital: Vital): number {
  switch (vital.unit) {
    case '°F':
      return ((vital.value - 32) * 5) / 9;
    case 'lb':
      return vital.value * 0.45359237;
    case 'm':
      return vital.value * 100;
    case 'in':
      return vital.value * 2.54;
    default:
      return vital.value;
  }
}

/** Plausibility limits in base units, inclusive. */
export const PLAUSIBLE_RANGES: Record<VitalName, { min: number; max: number; unit: string }> = {
  systolic_bp: { min: 50, max: 300, unit: 'mmHg' },
  diastolic_bp: { min: 20, max: 200, unit: 'mmHg' },
  heart_rate: { min: 20, max: 300, unit: 'bpm' },
  respiratory_rate: { min: 4, max: 80, unit: 'breaths/min' },
  temperature: { min: 25, max: 45, unit: '°C' },
  spo2: { min: 30, max: 100, unit: '%' },
  weight: { min: 0.3, max: 500, unit: 'kg' },
  height: { min: 25, max: 260, unit: 'cm' },
};

/** True when the vital lies within its plausibility range. */
export function isPlausible(vital: Vital): boolean {
  const range = PLAUSIBLE_RANGES[vital.name];
  const value = toBaseUnit(vital);
  return Number.isFinite(value) && value >= range.min && value <= range.max;
}

/** True when two readings of the same vital agree (after unit conversion, within rounding). */
export function sameReading(a: Vital, b: Vital): boolean {
  if (a.name !== b.name) return false;
  const tolerance = a.name === 'temperature' ? 0.15 : a.name === 'weight' || a.name === 'height' ? 0.6 : 0.5;
  return Math.abs(toBaseUnit(a) - toBaseUnit(b)) <= tolerance;
}

const NUM = String.raw`(\d{1,3}(?:[.,]\d{1,2})?)`;
const SEP = String.raw`\s*(?:[:=]|\bof\b|\bwas\b|\bis\b|\bat\b)?\s*`;

function parseNumber(text: string): number {
  return Number(text.replace(',', '.'));
}

interface Pattern {
  regex: RegExp;
  read: (match: RegExpExecArray) => Vital[];
}

function single(name: VitalName, unit: string) {
  return (match: RegExpExecArray): Vital[] => [{ name, value: parseNumber(match[1]!), unit }];
}

function unitFrom(name: VitalName, fallback: (value: number) => string) {
  return (match: RegExpExecArray): Vital[] => {
    const value = parseNumber(match[1]!);
    const unit = (match[2] && canonicalUnit(name, match[2])) || fallback(value);
    return [{ name, value, unit }];
  };
}

const PATTERNS: Pattern[] = [
  {
    // "BP 150/95", "blood pressure of 150/95 mmHg", "B/P: 120/80"
    regex: new RegExp(
      String.raw`\b(?:BP|NIBP|ABP|B\/P|blood\s+pressure)${SEP}(\d{2,3})\s*\/\s*(\d{2,3})(?:\s*mm\s*Hg)?`,
      'gi',
    ),
    read: (m) => [
      { name: 'systolic_bp', value: Number(m[1]), unit: 'mmHg' },
      { name: 'diastolic_bp', value: Number(m[2]), unit: 'mmHg' },
    ],
  },
  {
    // "150/95 mmHg" without a label
    regex: /(?<![\d/])(\d{2,3})\s*\/\s*(\d{2,3})\s*mm\s*Hg/gi,
    read: (m) => [
      { name: 'systolic_bp', value: Number(m[1]), unit: 'mmHg' },
      { name: 'diastolic_bp', value: Number(m[2]), unit: 'mmHg' },
    ],
  },
  {
    regex: new RegExp(String.raw`\b(?:HR|heart\s+rate|pulse(?:\s+rate)?)${SEP}${NUM}(?!\s*\/\s*\d)`, 'gi'),
    read: single('heart_rate', 'bpm'),
  },
  {
    regex: new RegExp(String.raw`(?<![\w.])${NUM}\s*(?:bpm|beats\s*(?:\/|per)\s*min(?:ute)?)\b`, 'gi'),
    read: single('heart_rate', 'bpm'),
  },
  {
    regex: new RegExp(
      String.raw`\b(?:RR|resp(?:iratory)?\.?\s*rate|resp(?:irations)?|breathing\s+rate)${SEP}${NUM}`,
      'gi',
    ),
    read: single('respiratory_rate', 'breaths/min'),
  },
  {
    // "Temp 38.2 C", "temperature of 101.3 °F", "T: 37.9", "Tmax 38.4" (a bare "T" needs a space or colon)
    regex: new RegExp(
      String.raw`(?:\btemp(?:erature)?\.?${SEP}|\bT(?:max)?(?:\s*[:=]\s*|\s+))(\d{2,3}(?:[.,]\d{1,2})?)\s*(°\s*[CF]|º\s*[CF]|deg(?:rees)?\s*[CF]\b|[CF]\b|celsius|fahrenheit)?`,
      'gi',
    ),
    read: unitFrom('temperature', (value) => (value >= 80 ? '°F' : '°C')),
  },
  {
    // a bare temperature with an explicit degree sign: "38.5 °C", "101.2°F"
    regex: new RegExp(String.raw`(?<![\w.])${NUM}\s*(°\s*[CF]|º\s*[CF])`, 'gi'),
    read: unitFrom('temperature', (value) => (value >= 80 ? '°F' : '°C')),
  },
  {
    regex: new RegExp(
      String.raw`\b(?:SpO2|SpO₂|SaO2|O2\s*sat(?:uration)?s?|oxygen\s+saturation|pulse\s+ox(?:imetry)?)${SEP}${NUM}\s*%?`,
      'gi',
    ),
    read: single('spo2', '%'),
  },
  {
    // a bare "sat"/"sats" is also a verb: only with a percent sign
    regex: new RegExp(String.raw`\bsats?\s*[:=]?\s*${NUM}\s*%`, 'gi'),
    read: single('spo2', '%'),
  },
  {
    regex: new RegExp(
      String.raw`\b(?:weight|wt|weighs|weighing)\.?${SEP}${NUM}\s*(kg|kgs|kilograms|lbs?|pounds)\b`,
      'gi',
    ),
    read: unitFrom('weight', () => 'kg'),
  },
  {
    regex: new RegExp(String.raw`(?<![\w.])${NUM}\s*(kg|kgs|kilograms)\b`, 'gi'),
    read: unitFrom('weight', () => 'kg'),
  },
  {
    regex: new RegExp(
      String.raw`\b(?:height|ht)\.?${SEP}(\d{1,3}(?:[.,]\d{1,2})?)\s*(cm|m|in|inches)\b`,
      'gi',
    ),
    read: unitFrom('height', () => 'cm'),
  },
  {
    // 5'10" or 5 ft 10 in
    regex: /\b([3-7])\s*(?:'|’|ft|feet)\s*(\d{1,2})\s*(?:"|”|in(?:ches)?)?(?![\d])/gi,
    read: (m) => [{ name: 'height', value: Number(m[1]) * 12 + Number(m[2]), unit: 'in' }],
  },
];

/** A vital found in text, with where it was found. */
export interface ExtractedVital extends Vital {
  /** Character offset of the match in the source text. */
  offset: number;
}

/**
 * Extracts vitals from free text: BP 150/95 mmHg, HR 88 bpm, RR 16, Temp 38.2 °C / 100.8 °F, SpO2 97%,
 * weight in kg/lb, height in cm/m/in or feet and inches. Readings are returned in text order, one per mention.
 */
export function extractVitals(text: string): ExtractedVital[] {
  const found: ExtractedVital[] = [];
  const covered: Array<[number, number]> = [];
  for (const pattern of PATTERNS) {
    pattern.regex.lastIndex = 0;
    for (let m = pattern.regex.exec(text); m !== null; m = pattern.regex.exec(text)) {
      const start = m.index;
      const end = start + m[0].length;
      if (covered.some(([s, e]) => start < e && end > s)) continue;
      const vitals = pattern.read(m).filter((v) => Number.isFinite(v.value));
      if (vitals.length === 0) continue;
      covered.push([start, end]);
      for (const vital of vitals) found.push({ ...vital, offset: start });
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}
