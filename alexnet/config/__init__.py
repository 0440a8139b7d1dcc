"""Configuration: Hydra composition and resolvers, the typed schemas, the
command line's override check, run names, and the YAML configs (conf/)."""
