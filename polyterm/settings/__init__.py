"""The user's settings: config (TOML, validated), credentials (env > keyring > keyfile),
where files live, and logging."""
