/**
 * The parsed form of an HL7 v2 message: segments of fields, each field a list of repetitions of
 * components of subcomponents, with escape sequences already decoded in the leaves.
 */
import type { Hl7Finding } from './types.js';

/** Delimiters declared by MSH-1 and MSH-2. */
export interface Hl7Encoding {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** Truncation character (5th character of MSH-2, v2.7+), when declared. */
  truncation?: string;
}

/** One repetition of a field: `components[c - 1][s - 1]` is component c, subcomponent s (decoded). */
export type Hl7Repetition = readonly (readonly string[])[];

/** One field: its raw text as sent and its decoded repetitions. */
export interface Hl7Field {
  readonly raw: string;
  readonly repetitions: readonly Hl7Repetition[];
}

const EMPTY_FIELD: Hl7Field = { raw: '', repetitions: [] };

/** Reads component `c` (1-based), subcomponent `s` (1-based) of a repetition; '' when absent. */
export function componentOf(rep: Hl7Repetition | undefined, c = 1, s = 1): string {
  return rep?.[c - 1]?.[s - 1] ?? '';
}

/** True when a repetition has no non-empty leaf. */
export function isEmptyRepetition(rep: Hl7Repetition | undefined): boolean {
  return !rep || rep.every((comp) => comp.every((sub) => sub.trim() === ''));
}

/** A component of a repetition seen as a repetition of its subcomponents (for types nested in a component). */
export function subRepetition(rep: Hl7Repetition | undefined, c: number): Hl7Repetition {
  const comp = rep?.[c - 1];
  return comp ? comp.map((sub) => [sub]) : [];
}

/** One segment, e.g. `PID`. Field numbering follows HL7: `field(3)` is PID-3; for MSH, `field(1)` is MSH-1. */
export class Hl7Segment {
  constructor(
    /** Segment id, e.g. `PID`. */
    readonly name: string,
    /** 0-based position of the segment in the message. */
    readonly index: number,
    /** `fields[n - 1]` is field n. */
    readonly fields: readonly Hl7Field[],
  ) {}

  /** Field n (1-based); an empty field when the segment is shorter. */
  field(n: number): Hl7Field {
    return this.fields[n - 1] ?? EMPTY_FIELD;
  }

  /** Non-empty repetitions of field n. */
  repetitions(n: number): Hl7Repetition[] {
    return this.field(n).repetitions.filter((rep) => !isEmptyRepetition(rep));
  }

  /** First non-empty repetition of field n. */
  first(n: number): Hl7Repetition | undefined {
    return this.repetitions(n)[0];
  }

  /** Decoded, trimmed value of field n, component c, subcomponent s, first repetition. */
  value(n: number, c = 1, s = 1): string {
    return componentOf(this.field(n).repetitions[0], c, s).trim();
  }

  /** Field name in HL7 notation, e.g. `PID-7`. */
  ref(n: number): string {
    return `${this.name}-${n}`;
  }
}

/** A parsed HL7 v2 message. */
export interface Hl7Message {
  encoding: Hl7Encoding;
  segments: readonly Hl7Segment[];
  /** MSH-9.1, e.g. `ADT`. */
  messageCode: string;
  /** MSH-9.2, e.g. `A01`. */
  triggerEvent: string;
  /** MSH-9.3, e.g. `ADT_A01`, when sent. */
  messageStructure: string;
  /** MSH-10. */
  controlId: string;
  /** MSH-12. */
  version: string;
  /** Lines that were not segments, and similar recoverable problems. */
  findings: Hl7Finding[];
}
