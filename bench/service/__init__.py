"""The bench service: a service with no domain, built on ``shared/`` like the test kit, whose
only handler records when each event's effects committed."""
