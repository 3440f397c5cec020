"""The indexer: the deployed contracts' events into the database, exactly once, across reorganisations and
restarted nodes (`twinctl index`; `service.build_indexer` in code)."""
