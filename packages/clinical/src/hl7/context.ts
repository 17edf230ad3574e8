/**
 * State shared by the segment mappers while one message is converted: options, findings,
 * deterministic ids, bundle entries, and the date helpers that know the sender's UTC offset.
 */
import { createHash } from 'node:crypto';
import { normaliseOffset, parseHl7Timestamp, toFhirDate, toFhirDateTime, toFhirInstant } from './datetime.js';
import { Hl7ParseError } from './errors.js';
import type { FhirResource, Reference } from './fhir-types.js';
import { isUuid, uuidV5, WARD_HL7_ID_NAMESPACE } from './ids.js';
import type { Hl7Message, Hl7Segment } from './model.js';
import type { ConvertHl7Options, Hl7Finding } from './types.js';

/** A resource that has been added to the bundle. */
export interface Entry {
  fullUrl: string;
  resource: FhirResource;
}

export class ConversionContext {
  readonly findings: Hl7Finding[] = [];
  readonly entries: Entry[] = [];
  readonly codeSystems: Record<string, string>;
  readonly authorities: Record<string, string>;
  /** Offset for timestamps that carry a time but no offset: MSH-7's, else the configured default. */
  readonly implicitOffset: string | undefined;
  private readonly namespace: string;
  private readonly seed: string;
  private readonly byKey = new Map<string, Entry>();
  private readonly byUrl = new Map<string, Entry>();

  constructor(
    readonly message: Hl7Message,
    readonly options: ConvertHl7Options,
  ) {
    this.codeSystems = options.codeSystems ?? {};
    this.authorities = options.assigningAuthorities ?? {};
    this.namespace =
      options.idNamespace !== undefined && isUuid(options.idNamespace)
        ? options.idNamespace
        : WARD_HL7_ID_NAMESPACE;
    const msh = message.segments[0]!;
    const sender = `${msh.field(3).raw}|${msh.field(4).raw}`;
    // Without MSH-10 the normalised message text stands in, so the same message still gives the same ids.
    const identity =
      message.controlId !== ''
        ? `control:${message.controlId}`
        : `content:${createHash('sha256')
            .update(message.segments.map((s) => s.fields.map((f) => f.raw).join('|')).join('\r'))
            .digest('hex')}`;
    this.seed = `${sender}|${identity}`;
    const mshTime = parseHl7Timestamp(msh.value(7));
    const configured = normaliseOffset(options.defaultTimezoneOffset);
    this.implicitOffset = (mshTime.kind === 'ok' ? mshTime.value.offset : undefined) ?? configured;
    if (options.defaultTimezoneOffset !== undefined && configured === undefined) {
      this.finding(
        'warning',
        'HL7_OPTION_IGNORED',
        'defaultTimezoneOffset is not an offset like +01:00; ignored.',
      );
    }
    if (options.idNamespace !== undefined && !isUuid(options.idNamespace)) {
      this.finding(
        'warning',
        'HL7_OPTION_IGNORED',
        'idNamespace is not a UUID; the default namespace was used.',
      );
    }
  }

  /** Deterministic UUID for a resource identified by `key` within this message. */
  idFor(key: string): string {
    return uuidV5(`${this.seed}|${key}`, this.namespace);
  }

  /** Adds a resource (its id derived from `key`) and returns a reference to it. Same key → same entry. */
  add(key: string, build: () => FhirResource): Reference {
    const existing = this.byKey.get(key);
    if (existing) return { reference: existing.fullUrl };
    const id = this.idFor(key);
    const { resourceType, ...rest } = build();
    const resource = { resourceType, id, ...rest } as FhirResource;
    const entry = { fullUrl: `urn:uuid:${id}`, resource };
    this.byKey.set(key, entry);
    this.byUrl.set(entry.fullUrl, entry);
    this.entries.push(entry);
    return { reference: entry.fullUrl };
  }

  /** The resource a reference returned by {@link add} points to. */
  resourceOf(reference: Reference): FhirResource | undefined {
    return reference.reference === undefined ? undefined : this.byUrl.get(reference.reference)?.resource;
  }

  finding(severity: Hl7Finding['severity'], code: string, message: string, path?: string): void {
    this.findings.push(path === undefined ? { severity, code, message } : { severity, code, message, path });
  }

  /** `segments[12].OBX-5`: where a finding applies, without any value. */
  path(seg: Hl7Segment, field: number): string {
    return `segments[${seg.index}].${seg.ref(field)}`;
  }

  private timestamp(seg: Hl7Segment, field: number, required: boolean) {
    const parsed = parseHl7Timestamp(seg.value(field));
    if (parsed.kind === 'invalid') {
      if (required) {
        throw new Hl7ParseError('WARD_HL7_INVALID_DATE', `${seg.ref(field)} is not a valid HL7 date`, {
          segment: seg.name,
          field: seg.ref(field),
          segmentIndex: seg.index,
        });
      }
      this.finding(
        'warning',
        'HL7_INVALID_DATE',
        `${seg.ref(field)} is not a valid HL7 date and was left out.`,
        this.path(seg, field),
      );
      return undefined;
    }
    return parsed.kind === 'ok' ? parsed.value : undefined;
  }

  /** FHIR date from a DT/DTM field. `required` turns an invalid value into an {@link Hl7ParseError}. */
  date(seg: Hl7Segment, field: number, required = false): string | undefined {
    const ts = this.timestamp(seg, field, required);
    return ts ? toFhirDate(ts) : undefined;
  }

  /** FHIR dateTime from a DT/DTM field (time dropped, with a finding, when no offset is known). */
  dateTime(seg: Hl7Segment, field: number, required = false): string | undefined {
    const ts = this.timestamp(seg, field, required);
    if (!ts) return undefined;
    const { value, timeDropped } = toFhirDateTime(ts, this.implicitOffset);
    if (timeDropped) {
      this.finding(
        'info',
        'HL7_TIME_WITHOUT_OFFSET',
        `${seg.ref(field)} has a time but neither it nor MSH-7 gives a UTC offset; only the date was kept (set defaultTimezoneOffset to keep times).`,
        this.path(seg, field),
      );
    }
    return value;
  }

  /** FHIR instant from a DTM field; undefined (with a finding) when too imprecise or without offset. */
  instant(seg: Hl7Segment, field: number): string | undefined {
    const ts = this.timestamp(seg, field, false);
    if (!ts) return undefined;
    const value = toFhirInstant(ts, this.implicitOffset);
    if (value === undefined) {
      this.finding(
        'info',
        'HL7_TIMESTAMP_TOO_IMPRECISE',
        `${seg.ref(field)} lacks minutes or a UTC offset, so it cannot be a FHIR instant and was left out.`,
        this.path(seg, field),
      );
    }
    return value;
  }
}
