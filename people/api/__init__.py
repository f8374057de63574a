"""REST API of the people app: persons, organizations and posts (built on incidents.api)."""
