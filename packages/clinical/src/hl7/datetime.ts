/**
 * HL7 v2 DT/DTM/TS values (YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]) → FHIR date, dateTime,
 * instant and time, keeping the precision that was sent and never inventing a time zone.
 */

/** A parsed HL7 timestamp; fields beyond `precision` are undefined. */
export interface Hl7Timestamp {
  year: string;
  month?: string;
  day?: string;
  hour?: string;
  minute?: string;
  second?: string;
  /** Fraction digits after the decimal point, without the point. */
  fraction?: string;
  /** UTC offset in FHIR form, e.g. `+02:15`. */
  offset?: string;
  precision: 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';
}

/** Result of reading a timestamp field: absent (empty), invalid, or a timestamp. */
export type Hl7TimestampResult =
  | { kind: 'absent' }
  | { kind: 'invalid' }
  | { kind: 'ok'; value: Hl7Timestamp };

const DTM =
  /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;
const TM = /^(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?(?:[+-]\d{4})?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Accepts offsets FHIR can carry: -14:00…+14:00. */
function offsetOf(sign: string, hh: string, mm: string): string | undefined {
  const h = Number(hh);
  const m = Number(mm);
  if (m > 59 || h > 14 || (h === 14 && m !== 0)) return undefined;
  return `${sign}${hh}:${mm}`;
}

/** Parses an HL7 DT/DTM/TS value (first component only). */
export function parseHl7Timestamp(input: string): Hl7TimestampResult {
  const text = input.trim();
  if (text === '') return { kind: 'absent' };
  const m = DTM.exec(text);
  if (!m) return { kind: 'invalid' };
  const [, year, month, day, hour, minute, second, fraction, sign, oh, om] = m;
  if (year === undefined || Number(year) === 0) return { kind: 'invalid' };
  if (month !== undefined && (Number(month) < 1 || Number(month) > 12)) return { kind: 'invalid' };
  if (day !== undefined && (Number(day) < 1 || Number(day) > daysIn(Number(year), Number(month)))) {
    return { kind: 'invalid' };
  }
  if (hour !== undefined && Number(hour) > 23) return { kind: 'invalid' };
  if (minute !== undefined && Number(minute) > 59) return { kind: 'invalid' };
  if (second !== undefined && Number(second) > 59) return { kind: 'invalid' };
  let offset: string | undefined;
  if (sign !== undefined && oh !== undefined && om !== undefined) {
    offset = offsetOf(sign, oh, om);
    if (offset === undefined) return { kind: 'invalid' };
  }
  const precision =
    second !== undefined
      ? 'second'
      : minute !== undefined
        ? 'minute'
        : hour !== undefined
          ? 'hour'
          : day !== undefined
            ? 'day'
            : month !== undefined
              ? 'month'
              : 'year';
  const value: Hl7Timestamp = { year, precision };
  if (month !== undefined) value.month = month;
  if (day !== undefined) value.day = day;
  if (hour !== undefined) value.hour = hour;
  if (minute !== undefined) value.minute = minute;
  if (second !== undefined) value.second = second;
  if (fraction !== undefined) value.fraction = fraction;
  if (offset !== undefined) value.offset = offset;
  return { kind: 'ok', value };
}

/** FHIR `date` (YYYY, YYYY-MM or YYYY-MM-DD): the date part, any time dropped. */
export function toFhirDate(ts: Hl7Timestamp): string {
  let out = ts.year;
  if (ts.month !== undefined) out += `-${ts.month}`;
  if (ts.day !== undefined) out += `-${ts.day}`;
  return out;
}

function timePart(ts: Hl7Timestamp): string {
  const fraction = ts.fraction === undefined ? '' : `.${ts.fraction}`;
  return `T${ts.hour ?? '00'}:${ts.minute ?? '00'}:${ts.second ?? '00'}${fraction}`;
}

/**
 * Normalises a configured offset (`+0100`, `+01:00`, `Z`) to FHIR form; undefined when unusable.
 */
export function normaliseOffset(offset: string | undefined): string | undefined {
  if (offset === undefined) return undefined;
  if (offset === 'Z') return 'Z';
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset.trim());
  return m ? offsetOf(m[1]!, m[2]!, m[3]!) : undefined;
}

/** A FHIR dateTime, and whether the time had to be dropped for want of a UTC offset. */
export interface FhirDateTimeResult {
  value: string;
  timeDropped: boolean;
}

/**
 * FHIR `dateTime`. A timestamp with a time needs an offset (FHIR requires one): its own, else
 * `fallbackOffset`; without either only the date is kept. Hour or minute precision is padded to
 * whole seconds because FHIR times always carry seconds.
 */
export function toFhirDateTime(ts: Hl7Timestamp, fallbackOffset?: string): FhirDateTimeResult {
  if (ts.hour === undefined) return { value: toFhirDate(ts), timeDropped: false };
  const offset = ts.offset ?? fallbackOffset;
  if (offset === undefined) return { value: toFhirDate(ts), timeDropped: true };
  return { value: `${toFhirDate(ts)}${timePart(ts)}${offset}`, timeDropped: false };
}

/** FHIR `instant`: needs at least minute precision and an offset; undefined otherwise. */
export function toFhirInstant(ts: Hl7Timestamp, fallbackOffset?: string): string | undefined {
  if (ts.minute === undefined) return undefined;
  const offset = ts.offset ?? fallbackOffset;
  if (offset === undefined) return undefined;
  return `${toFhirDate(ts)}${timePart(ts)}${offset}`;
}

/** FHIR `time` (hh:mm:ss) from an HL7 TM value; any offset is dropped. */
export function hl7TimeToFhir(input: string): string | undefined {
  const m = TM.exec(input.trim());
  if (!m) return undefined;
  const [, hh, mm = '00', ss = '00', fraction] = m;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  return `${hh}:${mm}:${ss}${fraction === undefined ? '' : `.${fraction}`}`;
}
