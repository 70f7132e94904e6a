from scheduler.app import spec
from shared.cli import main

main(spec, "scheduler.app:create")
