"""The pipeline service: jobs, applications and their stages."""
