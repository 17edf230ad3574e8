-- ICD-10-CM diagnosis codes, one row per code per fiscal year, loaded from the CMS
-- "Code Descriptions in Tabular Order" file by @ward/clinical's importIcd10Order.
-- Several fiscal years may be loaded; exactly one release is active (the one lookups use).

CREATE TABLE icd10cm_releases (
  fiscal_year    integer     PRIMARY KEY CHECK (fiscal_year BETWEEN 2000 AND 2999),
  imported_at    timestamptz NOT NULL DEFAULT now(),
  source_file    text        NOT NULL,
  row_count      integer     NOT NULL DEFAULT 0,
  billable_count integer     NOT NULL DEFAULT 0,
  header_count   integer     NOT NULL DEFAULT 0,
  sha256         text        NOT NULL,
  active         boolean     NOT NULL DEFAULT false
);

-- At most one active release.
CREATE UNIQUE INDEX icd10cm_releases_one_active ON icd10cm_releases (active) WHERE active;

CREATE TABLE icd10cm_codes (
  fiscal_year integer NOT NULL REFERENCES icd10cm_releases (fiscal_year) ON DELETE CASCADE,
  -- Stored without the dot, upper case: E1165 (displayed as E11.65).
  code        text    NOT NULL CHECK (code ~ '^[A-Z][0-9A-Z]{2,6}$'),
  billable    boolean NOT NULL,
  short_desc  text    NOT NULL,
  long_desc   text    NOT NULL,
  order_no    integer NOT NULL,
  search      tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', long_desc), 'A') || setweight(to_tsvector('english', short_desc), 'B')
  ) STORED,
  PRIMARY KEY (fiscal_year, code)
);

CREATE INDEX icd10cm_codes_search ON icd10cm_codes USING gin (search);
