"""Application services: they orchestrate the domain, the database and the event bus."""
