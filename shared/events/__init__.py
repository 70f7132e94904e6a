"""The event envelope and the catalog of every event type the suite exchanges."""
