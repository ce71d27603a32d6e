"""Configuration: every setting's flag, environment variable and parser, the TOML task
policy file, and the frozen settings objects built once from them."""
