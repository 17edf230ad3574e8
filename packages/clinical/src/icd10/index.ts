export { type BenchIcd10Options, benchIcd10 } from './bench.js';
export { isValidIcd10Format, normalizeCode, toDottedCode } from './code-format.js';
export {
  CHILDREN_DEFAULT_LIMIT,
  CHILDREN_MAX_LIMIT,
  Icd10CodeSet,
  type LoadIcd10Options,
} from './code-set.js';
export { Icd10Error, type Icd10ErrorCode, Icd10FormatError } from './errors.js';
export {
  activateIcd10Release,
  fiscalYearFromFileName,
  type Icd10Source,
  importIcd10Order,
} from './import-order.js';
export { parseOrderLine } from './parse-order-line.js';
export { listIcd10Releases } from './releases.js';
export { type SearchIcd10Options, searchIcd10 } from './search.js';
export type {
  Icd10Code,
  Icd10ImportProgress,
  Icd10ImportResult,
  Icd10OrderRow,
  Icd10Release,
  Icd10SearchHit,
  ImportIcd10Options,
} from './types.js';
