from shared.cli import main
from talentpool.app import spec

main(spec, "talentpool.app:create")
