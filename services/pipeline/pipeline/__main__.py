from pipeline.app import spec
from shared.cli import main

main(spec, "pipeline.app:create")
