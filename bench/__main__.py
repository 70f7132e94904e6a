import os

# Before any settings class is imported: a developer's .env must not steer a bench run.
os.environ["RECRUITING_ENV_FILE"] = ""

from bench.runner import main

main()
