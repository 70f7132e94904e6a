from notifier.app import spec
from shared.cli import main

main(spec, "notifier.app:create")
