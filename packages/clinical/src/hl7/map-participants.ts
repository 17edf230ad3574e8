/**
 * XCN → Practitioner and PL → Location resources, one per distinct person or place in a message.
 */
import { LOCATION_TYPE } from './code-systems.js';
import type { ConversionContext } from './context.js';
import { humanNameFromXcn, identifierFromXcn, locationFromPl } from './datatypes.js';
import type { Location, Practitioner, Reference } from './fhir-types.js';
import { componentOf, type Hl7Repetition, isEmptyRepetition } from './model.js';

/** Adds (or reuses) the Practitioner an XCN names; undefined when the XCN is empty. */
export function practitionerRef(
  ctx: ConversionContext,
  rep: Hl7Repetition | undefined,
): Reference | undefined {
  if (!rep || isEmptyRepetition(rep)) return undefined;
  const identifier = identifierFromXcn(rep, ctx);
  const name = humanNameFromXcn(rep);
  if (!identifier && !name) return undefined;
  // The same person cited twice in one message is one resource.
  const key = identifier
    ? `Practitioner|id|${identifier.system ?? componentOf(rep, 9, 1)}|${identifier.value}`
    : `Practitioner|name|${[2, 3, 4, 5, 6, 7].map((c) => componentOf(rep, c, 1)).join('^')}`;
  return ctx.add(key, () => {
    const out: Practitioner = { resourceType: 'Practitioner' };
    if (identifier) out.identifier = [identifier];
    if (name) out.name = [name];
    return out;
  });
}

/** Adds (or reuses) the Location a PL names; undefined when the PL is empty. */
export function locationRef(ctx: ConversionContext, rep: Hl7Repetition | undefined): Reference | undefined {
  const parts = locationFromPl(rep);
  if (!parts) return undefined;
  return ctx.add(`Location|${parts.name}`, () => {
    const out: Location = { resourceType: 'Location', name: parts.name, mode: 'instance' };
    if (parts.description !== undefined) out.description = parts.description;
    if (parts.physicalType)
      out.physicalType = { coding: [{ system: LOCATION_TYPE, code: parts.physicalType }] };
    return out;
  });
}
