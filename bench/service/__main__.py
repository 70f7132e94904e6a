from bench.service.app import spec
from shared.cli import main

main(spec, "bench.service.app:create")
