"""The notifier service: templated, tracked, multi-channel messages."""
