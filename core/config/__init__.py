"""The preset schema: load TOML, validate, explain errors, resource limits."""
