-- Ward's own accounts and API keys. There is no seeded account: the first admin is created with
-- `ward users add --role admin`. Passwords and key secrets are stored only as hashes.

CREATE TABLE users (
  id                  uuid        PRIMARY KEY,
  -- Lower case, no ':' so it can never collide with `key:<id>` or `oidc:<sub>` actors.
  username            text        NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{0,63}$'),
  role                text        NOT NULL CHECK (role IN ('admin', 'provider', 'staff', 'auditor')),
  -- `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64, per-user random salt).
  password_hash       text        NOT NULL,
  disabled            boolean     NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  last_login_at       timestamptz
);

CREATE TABLE api_keys (
  id           uuid        PRIMARY KEY,
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- The first characters of the key (`ward_AbCdEfGh`), enough to recognise it in a list.
  prefix       text        NOT NULL,
  -- SHA-256 (hex) of the whole key; the key itself is shown once at creation and never stored.
  key_hash     text        NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
  role         text        NOT NULL CHECK (role IN ('admin', 'provider', 'staff', 'auditor')),
  created_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  revoked_at   timestamptz,
  revoked_by   text,
  last_used_at timestamptz,
  CHECK (expires_at > created_at)
);
