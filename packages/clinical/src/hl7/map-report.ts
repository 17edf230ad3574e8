/**
 * ORU OBR → DiagnosticReport: code OBR-4, status OBR-25, effective OBR-7, issued OBR-22,
 * placer/filler identifiers OBR-2/3, category OBR-24; results and presented forms are added as
 * the OBX segments of the order group are mapped.
 */
import { RESULT_STATUS } from './code-systems.js';
import type { ConversionContext } from './context.js';
import { codeableConcept, identifierFromEi, text } from './datatypes.js';
import { Hl7ParseError } from './errors.js';
import type { DiagnosticReport, Identifier, Reference } from './fhir-types.js';
import type { Hl7Segment } from './model.js';

/** A DiagnosticReport under construction and the OBR-7 time its results default to. */
export interface ReportGroup {
  reference: Reference;
  resource: DiagnosticReport;
  effective?: string;
}

/** Maps an ORU OBR. Throws {@link Hl7ParseError} when OBR-4 is empty (DiagnosticReport.code is required). */
export function mapReport(
  ctx: ConversionContext,
  obr: Hl7Segment,
  subject: Reference,
  encounter: Reference | undefined,
): ReportGroup {
  const code = codeableConcept(obr.first(4), ctx);
  if (!code) {
    throw new Hl7ParseError('WARD_HL7_MISSING_FIELD', 'OBR-4 (universal service identifier) is missing', {
      segment: 'OBR',
      field: 'OBR-4',
      segmentIndex: obr.index,
    });
  }
  const statusCode = text(obr.value(25)).toUpperCase();
  let status = RESULT_STATUS[statusCode];
  if (!status) {
    status = 'unknown';
    ctx.finding(
      'warning',
      statusCode === '' ? 'HL7_MISSING_FIELD' : 'HL7_UNKNOWN_CODE',
      statusCode === ''
        ? 'OBR-25 (result status) is empty; report status set to unknown.'
        : 'OBR-25 is not a table 0123 code; report status set to unknown.',
      ctx.path(obr, 25),
    );
  }
  const report: DiagnosticReport = { resourceType: 'DiagnosticReport', status, code };
  const identifiers = [
    identifierFromEi(obr.first(2), ctx, 'PLAC'),
    identifierFromEi(obr.first(3), ctx, 'FILL'),
  ].filter((x): x is Identifier => x !== undefined);
  if (identifiers.length > 0) report.identifier = identifiers;
  const category = codeableConcept(obr.first(24), ctx, { table: '0074' });
  if (category) report.category = [category];
  report.subject = subject;
  if (encounter) report.encounter = encounter;
  const effective = ctx.dateTime(obr, 7);
  if (effective !== undefined) report.effectiveDateTime = effective;
  const issued = ctx.instant(obr, 22);
  if (issued !== undefined) report.issued = issued;

  const reference = ctx.add(`DiagnosticReport|${obr.index}`, () => report);
  const resource = ctx.resourceOf(reference) as DiagnosticReport;
  return effective === undefined ? { reference, resource } : { reference, resource, effective };
}
